/**
 * The `.flyte` folder a command works on, and the flags every store command shares.
 * @module
 */
import { resolve } from "node:path";
import { type Flag, readFlags } from "./flags.js";
import { UsageError } from "./usage.js";

/** A store command's words: its positionals and flags by name. */
export interface StoreArgs {
  readonly home: string;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly help: boolean;
  /** The value of `--<name>`, if given. */
  value(name: string): string | undefined;
}

/** Reads `argv` of a store command; `valueFlags` are the flags that take a value. */
export function readStoreArgs(argv: readonly string[], valueFlags: readonly string[]): StoreArgs {
  const takes = new Set(["cache-dir", ...valueFlags]);
  const { flags, positionals } = readFlags(argv, (name) => takes.has(name));
  const byName = new Map<string, Flag>();
  for (const flag of flags) {
    if (!takes.has(flag.name) && flag.name !== "json" && flag.name !== "help") {
      throw new UsageError(`Unknown option --${flag.name}.`);
    }
    if (takes.has(flag.name) && flag.value === true)
      throw new UsageError(`--${flag.name} needs a value.`);
    byName.set(flag.name, flag);
  }
  const text = (name: string) => {
    const v = byName.get(name)?.value;
    return typeof v === "string" ? v : undefined;
  };
  return {
    home: resolve(text("cache-dir") ?? process.env.FLYTE_TS_HOME ?? ".flyte"),
    positionals,
    json: byName.has("json"),
    help: byName.has("help"),
    value: text,
  };
}

/** Formats rows as aligned columns under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** Bytes for people: `"512 B"`, `"1.5 MB"`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** A time for people: ISO without milliseconds. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}
