/**
 * A run event as one line of JSON for `flyte-ts run --json`: inputs as named previews (the
 * values themselves may not be JSON: BigInt, Map, cycles), outputs as JSON when they can be,
 * else as a preview.
 * @module
 */
import { namedInputs } from "./action-label.js";
import type { RunEvent } from "./events.js";
import { recordedPreview } from "./recorded-value.js";

/** `event` as one line of JSON (no newline). */
export function eventJson(event: RunEvent): string {
  if (event.type === "action-queued" && event.inputs !== undefined) {
    const { inputs, parameters, ...rest } = event;
    return JSON.stringify({ ...rest, inputs: namedInputs(parameters, inputs) });
  }
  try {
    return JSON.stringify(event, jsonReplacer);
  } catch {
    // A cyclic output: show its preview instead.
    const output = "output" in event ? recordedPreview(event.output) : undefined;
    return JSON.stringify({ ...event, output }, jsonReplacer);
  }
}

/** Makes values JSON cannot hold readable: BigInt as digits, Map as an object, Set as an array. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) {
    const stringKeys = [...value.keys()].every((k) => typeof k === "string");
    return stringKeys ? Object.fromEntries(value) : [...value.entries()];
  }
  if (value instanceof Set) return [...value];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<unknown>);
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      error: value.name,
      ...(typeof code === "string" ? { code } : {}),
      message: value.message,
    };
  }
  return value;
}
