/**
 * How the CLI shows a task's outputs and errors.
 * @module
 */
import { inspect } from "node:util";
import { jsonReplacer } from "../record/event-json.js";

export { jsonReplacer };

/**
 * A task's outputs as printed: a string as it is, a BigInt as its digits, anything else as
 * pretty JSON (Map, Set, BigInt and typed arrays converted); `undefined` when there is nothing
 * to print. Values JSON cannot show (cycles, functions) are shown as Node's `inspect` does.
 */
export function formatOutput(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  try {
    const json = JSON.stringify(value, jsonReplacer, 2);
    if (json !== undefined) return json;
  } catch {
    // A cycle: fall through to inspect, which shows it as [Circular].
  }
  return inspect(value, { depth: null, colors: false });
}

function headline(error: unknown): string {
  if (!(error instanceof Error)) return `${typeof error} thrown: ${String(error)}`;
  const code = (error as { code?: unknown }).code;
  // `class QuotaError extends Error {}` keeps the name "Error"; its class name says more.
  const className = error.constructor?.name;
  const name = error.name === "Error" && className ? className : error.name;
  const shownCode = typeof code === "string" && code !== name ? ` [${code}]` : "";
  return `${name}${shownCode}: ${error.message}`;
}

function stackFrames(error: unknown): string[] {
  if (!(error instanceof Error) || error.stack === undefined) return [];
  return error.stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .map((line) => `    ${line.trim()}`);
}

function indentTail(text: string, indent: string): string {
  return text.replaceAll("\n", `\n${indent}`);
}

/**
 * An error as printed: `Class [code]: message`, then each `cause` (skipping a cause that only
 * repeats its wrapper's message, unless `verbose`), with stack frames only when `verbose`.
 */
export function formatError(error: unknown, verbose: boolean): string {
  const lines = [headline(error), ...(verbose ? stackFrames(error) : [])];
  let wrapper = error;
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    const repeats =
      wrapper instanceof Error && cause instanceof Error && cause.message === wrapper.message;
    if (verbose || !repeats) {
      lines.push(`  caused by ${indentTail(headline(cause), "  ")}`);
      if (verbose) lines.push(...stackFrames(cause));
    }
    wrapper = cause;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.join("\n");
}
