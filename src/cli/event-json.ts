/**
 * A run event as one line of JSON for `flyte-ts run --json`: inputs as named previews (the
 * values themselves may not be JSON: BigInt, Map, cycles), outputs as JSON when they can be,
 * else as a preview.
 * @module
 */
import { namedInputs } from "../record/action-label.js";
import type { RunEvent } from "../record/events.js";
import { recordedPreview } from "../record/recorded-value.js";
import { jsonReplacer } from "./print.js";

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
