/**
 * The seals of what the run store keeps for a resume: a hash over a stored value's keys and
 * bytes, written with the value and checked when it is read back, so that a damaged or misplaced
 * row is never replayed.
 * @module
 */
import { sha256 } from "../cache/value-codec.js";
import type { StoredCall } from "./run-store.js";

/** The seal of a stored output: it belongs to this run and action, and these are its bytes. */
export function outputSeal(run: string, id: string, output: Uint8Array): string {
  return sha256(Buffer.concat([Buffer.from(`${run}\n${id}\n`), output])).slice(0, 32);
}

/** The seal of a traced call's stored result (its value, or its error). */
export function traceSeal(
  run: string,
  action: string,
  trace: string,
  ok: number,
  value: Uint8Array | null,
  error: string | null,
): string {
  const head = Buffer.from(`${run}\n${action}\n${trace}\n${ok}\n${error ?? ""}\n`);
  return sha256(value === null ? head : Buffer.concat([head, value])).slice(0, 32);
}

/** The seal of a run's stored root call (`args`: its stored inputs, when they were kept). */
export function callSeal(run: string, call: StoredCall, args: Uint8Array | null): string {
  const head = Buffer.from(
    `${run}\n${call.task}\n${call.inputsHash}\n${call.version ?? ""}\n${call.module ?? ""}\n`,
  );
  return sha256(args === null ? head : Buffer.concat([head, args])).slice(0, 32);
}
