/**
 * The arguments of a call that is issued later than it was made (context/call-pacer.ts), as they
 * were when it was made.
 * @module
 */
import { deserialize, serialize } from "node:v8";

/**
 * The arguments as they are now: plain-data object arguments copied with Node's serializer
 * (which keeps a Buffer a Buffer, as a process worker's copy does; a thread's copy is then taken
 * from this one, as it was from the caller's). Others (a class instance, a function inside) are
 * kept as they are: issuing the call reports that they cannot be passed, as it would at once.
 */
export function copiedArgs(args: unknown[]): unknown[] {
  let copied: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === null || typeof arg !== "object" || !isPlainData(arg, new Set())) continue;
    copied ??= args.slice();
    copied[i] = deserialize(serialize(arg));
  }
  return copied ?? args;
}

/** Whether `value` is data a structured clone copies exactly (no class instances, no functions). */
function isPlainData(value: unknown, seen: Set<object>): boolean {
  if (typeof value === "function" || typeof value === "symbol") return false;
  if (value === null || typeof value !== "object" || seen.has(value)) return true;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (value instanceof Date || value instanceof RegExp) return true;
  if (Array.isArray(value)) return value.every((item) => isPlainData(item, seen));
  if (value instanceof Map) {
    for (const [k, v] of value) if (!isPlainData(k, seen) || !isPlainData(v, seen)) return false;
    return true;
  }
  if (value instanceof Set) {
    for (const item of value) if (!isPlainData(item, seen)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Reflect.ownKeys(value)) {
    const property = Object.getOwnPropertyDescriptor(value, key);
    if (typeof key === "symbol" || property?.get !== undefined || property?.set !== undefined)
      return false;
    if (!isPlainData(property?.value, seen)) return false;
  }
  return true;
}
