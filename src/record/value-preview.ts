/**
 * A bounded, readable preview of any value, for run records, `flyte-ts runs show`, the report and
 * the live view: at most `maxChars` characters, and a bounded walk (a 10-million-element array
 * costs as much as a short one). Not JSON: `12n`, `Map(2) {"a" => 1, …}`, `Uint8Array(1024)`.
 * @module
 */
import { Dir } from "../api/dir.js";
import { File } from "../api/file.js";

/** Characters a preview is cut to by default. */
export const PREVIEW_CHARS = 200;

/** Items of an array, entries of a map or keys of an object shown before `…`. */
const MAX_ITEMS = 8;

/** `text` quoted, cut (with `…` inside the quotes) so that the result fits `budget`. */
function quote(text: string, budget: number): string {
  const room = Math.max(1, budget - 2);
  return JSON.stringify(text.length > room ? `${text.slice(0, room - 1)}…` : text);
}

function walk(value: unknown, budget: number, depth: number, seen: Set<object>): string {
  if (budget <= 0) return "…";
  switch (typeof value) {
    case "string":
      return quote(value, budget);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
      return String(value);
    case "undefined":
      return "undefined";
    case "symbol":
      return value.toString();
    case "function":
      return `[Function ${value.name || "anonymous"}]`;
    default:
      break;
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.has(object)) return "[Circular]";
  if (depth > 4) return Array.isArray(object) ? "[…]" : "{…}";
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return `${value.name}: ${quote(value.message, budget)}`;
  if (File.is(value)) return `File(${value.path})`;
  if (Dir.is(value)) return `Dir(${value.path})`;
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${value.constructor.name}(${length})`;
  }
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  seen.add(object);
  try {
    const items: string[] = [];
    let used = 0;
    const add = (text: string) => {
      items.push(text);
      used += text.length + 2;
    };
    let total: number;
    let open: string;
    let close: string;
    if (Array.isArray(value)) {
      total = value.length;
      [open, close] = ["[", "]"];
      for (let i = 0; i < total && items.length < MAX_ITEMS && used < budget; i++) {
        add(walk(value[i], budget - used, depth + 1, seen));
      }
    } else if (value instanceof Map) {
      total = value.size;
      [open, close] = [`Map(${total}) {`, "}"];
      for (const [k, v] of value) {
        if (items.length >= MAX_ITEMS || used >= budget) break;
        add(`${walk(k, 30, depth + 1, seen)} => ${walk(v, budget - used, depth + 1, seen)}`);
      }
    } else if (value instanceof Set) {
      total = value.size;
      [open, close] = [`Set(${total}) {`, "}"];
      for (const v of value) {
        if (items.length >= MAX_ITEMS || used >= budget) break;
        add(walk(v, budget - used, depth + 1, seen));
      }
    } else {
      const keys = Object.keys(object);
      total = keys.length;
      [open, close] = ["{", "}"];
      for (const key of keys) {
        if (items.length >= MAX_ITEMS || used >= budget) break;
        const shownKey = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
        add(
          `${shownKey}: ${walk((object as Record<string, unknown>)[key], budget - used, depth + 1, seen)}`,
        );
      }
    }
    if (items.length < total) items.push(`… ${total - items.length} more`);
    return `${open}${items.join(", ")}${close}`;
  } finally {
    seen.delete(object);
  }
}

/**
 * `value` as a short text of at most `maxChars` characters (cut with `…`).
 *
 * @example
 * ```ts
 * previewValue({ lr: 0.01, layers: [64, 32] }); // '{lr: 0.01, layers: [64, 32]}'
 * ```
 */
export function previewValue(value: unknown, maxChars = PREVIEW_CHARS): string {
  // Most inputs are numbers and short strings: no walk for them.
  if (typeof value === "number" && !Object.is(value, -0)) return String(value);
  if (typeof value === "string" && value.length <= maxChars - 2) return JSON.stringify(value);
  const text = walk(value, maxChars, 0, new Set());
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
