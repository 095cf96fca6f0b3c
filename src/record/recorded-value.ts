/**
 * What of a task's inputs and outputs is recorded: a bounded preview (run records, report, live
 * view, `runs show`) and, when small enough, the whole value (`runs show <run> <action> --json`).
 * Every recorded value passes through {@link maskSecrets} first — the one place where values
 * equal to a resolved secret are to be masked.
 * @module
 */
import { serialize } from "node:v8";
import { knownSecrets } from "../internal/secret-mask.js";
import { previewValue } from "./value-preview.js";

/** Whole values larger than this are not kept, only their preview. Bytes. */
export const MAX_RECORDED_BYTES = 1 << 20;

/**
 * Every recorded input and output passes through here before it is previewed or stored: every
 * string holding a resolved secret's value has it replaced by `***`.
 */
function maskSecrets<T>(value: T): T {
  return knownSecrets.maskValue(value);
}

/** A preview of `value` for a record, at most `maxChars` characters, secrets masked. */
export function recordedPreview(value: unknown, maxChars?: number): string {
  return previewValue(maskSecrets(value), maxChars);
}

/**
 * Whether `preview` (made by {@link recordedPreview}) carries `value` exactly, so that no bytes
 * need be kept: a finite number, a boolean, `null`, or a string shown uncut (JSON text all).
 */
export function previewIsValue(value: unknown, preview: string): boolean {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value);
    case "boolean":
      return true;
    case "string":
      return !preview.endsWith('…"');
    default:
      return value === null;
  }
}

/** The value a preview carries exactly (see {@link previewIsValue}). */
export function valueOfPreview(preview: string): unknown {
  return JSON.parse(preview);
}

/**
 * The bytes of `value` for a record (`node:v8` serialization, secrets masked), or `undefined`
 * when it cannot be serialized or is larger than {@link MAX_RECORDED_BYTES}.
 */
export function recordedBytes(value: unknown): Buffer | undefined {
  try {
    const bytes = serialize(maskSecrets(value));
    return bytes.length > MAX_RECORDED_BYTES ? undefined : bytes;
  } catch {
    return undefined;
  }
}
