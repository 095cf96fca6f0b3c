/**
 * How values cross to a worker: to a child process as Node's structured-clone bytes when they
 * are small, as msgpackr bytes with its structured-clone extensions (Map, Set, Date, BigInt,
 * typed arrays, Buffer, Error, undefined, shared and cyclic references) when they are large,
 * where msgpackr costs less to decode; to a worker thread by the thread's own structured clone,
 * which keeps the same types and costs far less per message than an encoded byte array. A value
 * msgpack cannot carry exactly (a string with a lone surrogate, a sparse array's holes, `-0`)
 * crosses to a process as structured-clone bytes whatever its size, so values cross both
 * runtimes unchanged. Values that would not survive the trip (functions, symbols, class
 * instances, Proxies, more than {@link maxCrossingDepth} levels of nesting) are refused before
 * they are sent, naming the value.
 * @module
 */
import { createRequire } from "node:module";
import { types } from "node:util";
import { deserialize, serialize } from "node:v8";
import type { Packr } from "msgpackr";
import {
  type ErrorData,
  errorFromData,
  errorToData,
  RuntimeDataValidationError,
  rememberClass,
} from "../errors.js";

let packr: Packr | undefined;

/**
 * The codec, made on first use: only process workers and their pools encode, so a thread
 * worker and the controller of a run without process workers never load msgpackr (20-40 ms of a
 * cold start each). Required, not imported: `pack` is synchronous.
 */
function codec(): Packr {
  if (packr !== undefined) return packr;
  const { Packr } = createRequire(import.meta.url)("msgpackr") as typeof import("msgpackr");
  // `moreTypes` keeps typed arrays intact (bare `pack()` corrupts them, reference/dependencies.md
  // §3); `structuredClone` keeps shared and cyclic references; records plus `mapsAsObjects: false`
  // keep Map a Map while plain objects stay objects (with `useRecords: false` a Map decodes as an
  // object).
  packr = new Packr({ moreTypes: true, structuredClone: true, mapsAsObjects: false });
  return packr;
}

/** Encodes a value into a payload that owns its bytes. */
export function pack(value: unknown): Uint8Array {
  // msgpackr returns a view on its reusable buffer: copy it, or the view would carry (and a
  // later pack would overwrite) the whole buffer.
  return new Uint8Array(codec().pack(value));
}

/** How payloads are encoded for one transport. */
export interface Wire {
  encode(value: unknown): unknown;
  decode(payload: unknown): unknown;
  encodeError(error: unknown): unknown;
  decodeError(payload: unknown): Error;
}

/** Worker threads: structured clone does the work (no encoding). */
export const threadWire: Wire = {
  encode: (value) => value,
  decode: (payload) => payload,
  encodeError: (error) => errorToData(error),
  decodeError: (payload) => rebuildError(payload as ErrorData),
};

/** A payload as Node's structured-clone bytes: a small one, or one msgpack would change. */
interface ExactPayload {
  readonly v8: Uint8Array;
}

/**
 * Payloads up to about this many bytes cross to a process as structured-clone bytes: as fast as
 * msgpackr's at that size, and a process pool whose payloads are all small never loads msgpackr
 * (20-40 ms on each side, on a fresh process's first attempt).
 */
const smallPayloadBytes = 16 * 1024;

/**
 * Child processes: structured-clone bytes for small values and for the values msgpack would
 * change, msgpackr bytes for the rest (IPC with `serialization: "advanced"` carries both as is).
 */
export const processWire: Wire = {
  encode: (value) => {
    const sized = { bytes: 0 };
    return needsExactCodec(value, 0, sized) || sized.bytes <= smallPayloadBytes
      ? { v8: serialize(value) }
      : pack(value);
  },
  decode: (payload) =>
    payload instanceof Uint8Array
      ? unpack(payload)
      : deserialize((payload as ExactPayload).v8 as NodeJS.TypedArray),
  encodeError: (error) => processWire.encode(errorToData(error)),
  decodeError: (payload) => rebuildError(processWire.decode(payload) as ErrorData),
};

/** `String.prototype.isWellFormed` (Node 20; TypeScript's ES2022 lib does not declare it). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Whether msgpack would change `value`: a string that is not well-formed UTF-16 (it is written
 * as UTF-8, which replaces a lone surrogate), an array with holes (they become `undefined`), or
 * `-0` (written as 0). Values are at most {@link maxCrossingDepth} deep (checked before). Adds
 * the value's approximate encoded size to `sized.bytes` as it goes (up to where it stopped).
 */
function needsExactCodec(value: unknown, depth: number, sized: { bytes: number }): boolean {
  switch (typeof value) {
    case "string":
      sized.bytes += value.length + 2;
      return !isWellFormed(value);
    case "number":
      sized.bytes += 9;
      return value === 0 && 1 / value < 0;
    case "object":
      break;
    default:
      sized.bytes += 9;
      return false;
  }
  sized.bytes += 2;
  if (value === null || depth > maxCrossingDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined ? !(i in value) : needsExactCodec(item, depth + 1, sized)) return true;
    }
    return false;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (needsExactCodec(key, depth + 1, sized) || needsExactCodec(item, depth + 1, sized))
        return true;
    }
    return false;
  }
  if (value instanceof Set) {
    for (const item of value) if (needsExactCodec(item, depth + 1, sized)) return true;
    return false;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    sized.bytes += value.byteLength;
    return false;
  }
  if (value instanceof Date) return false;
  for (const key of Object.keys(value)) {
    if (!isWellFormed(key)) return true;
    sized.bytes += key.length + 2;
    if (needsExactCodec((value as Record<string, unknown>)[key], depth + 1, sized)) return true;
  }
  return false;
}

/** Decodes a payload made by {@link pack}. */
export function unpack(payload: Uint8Array): unknown {
  return codec().unpack(payload);
}

const builtinErrors: Readonly<Record<string, ErrorConstructor>> = {
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds an error from its data, as its own class where this side knows it. */
export function rebuildError(data: ErrorData): Error {
  const Builtin = builtinErrors[data.name];
  if (Builtin !== undefined && data.cause === undefined) {
    const error = rememberClass(new Builtin(data.message), data.code);
    if (data.stack !== undefined) error.stack = data.stack;
    return error;
  }
  return errorFromData(data);
}

const plainPrototypes = new Set<unknown>([Object.prototype, null]);

/**
 * How a Map key reads in a path: a primitive as its value, an object or function by its kind
 * (converting one to a string runs its own `toString`, which may throw or not be a function).
 */
function keyLabel(key: unknown): string {
  if (typeof key === "function") return "function";
  if (typeof key === "object" && key !== null) return Array.isArray(key) ? "array" : "object";
  return String(key);
}

/**
 * How deeply a value crossing to or from a worker may be nested. Levels. Deeper values are
 * refused: the receiving side (the controller's 1 MB stack) could not decode them.
 */
export const maxCrossingDepth = 1000;

/**
 * Throws {@link RuntimeDataValidationError} when `value` holds something that cannot cross to a
 * worker intact: a function, a symbol, a class instance (its methods would be lost), a Proxy, or
 * more than {@link maxCrossingDepth} levels of nesting. `what` names the value in the message,
 * e.g. "Input `x` of task `env.f`".
 */
export function checkCrossable(value: unknown, what: () => string): void {
  // Numbers, strings, booleans, null and undefined always cross (most task outputs).
  if (
    value === null ||
    (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol")
  )
    return;
  const problem = findProblem(value, "", new Set(), 0);
  if (problem !== undefined) {
    const path = problem.path.length > 60 ? `${problem.path.slice(0, 57)}...` : problem.path;
    const where = path === "" ? "" : ` (at \`${path}\`)`;
    throw new RuntimeDataValidationError(
      `${what()}${where} is ${problem.type}, which cannot be sent to a worker. ` +
        'Pass plain data (objects, arrays, Map, Set, Date, typed arrays, Buffer), or give the environment `runtime: "inline"`.',
    );
  }
}

/**
 * The error for a value that could not be sent or received although it passed
 * {@link checkCrossable} (too big, a getter that throws): it names the value.
 */
export function crossingError(what: string, error: unknown): RuntimeDataValidationError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new RuntimeDataValidationError(
    `${what} could not be passed between the controller and a worker (${reason}). ` +
      "Return or pass smaller, plainer data (write large data to a file and pass its path).",
    { cause: error },
  );
}

/** {@link checkCrossable} for each argument; `what(i)` names argument `i`. */
export function checkArgs(args: readonly unknown[], what: (index: number) => string): void {
  for (let i = 0; i < args.length; i++) checkCrossable(args[i], () => what(i));
}

interface Problem {
  readonly path: string;
  readonly type: string;
}

function findProblem(
  value: unknown,
  path: string,
  seen: Set<object>,
  depth: number,
): Problem | undefined {
  switch (typeof value) {
    case "function":
      return { path, type: `a function (${value.name || "anonymous"})` };
    case "symbol":
      return { path, type: "a symbol" };
    case "object":
      break;
    default:
      return undefined;
  }
  if (value === null || seen.has(value)) return undefined;
  if (depth >= maxCrossingDepth) {
    return { path, type: `nested more than ${maxCrossingDepth} levels deep` };
  }
  if (types.isProxy(value)) return { path, type: "a Proxy" };
  seen.add(value);
  const next = depth + 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProblem(value[i], `${path}[${i}]`, seen, next);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      const found =
        findProblem(key, `${path}<key>`, seen, next) ??
        findProblem(item, `${path}<${keyLabel(key)}>`, seen, next);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const item of value) {
      const found = findProblem(item, `${path}<item>`, seen, next);
      if (found) return found;
    }
    return undefined;
  }
  if (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value)
  ) {
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (!plainPrototypes.has(proto)) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name || "unknown class";
    return { path, type: `an instance of class ${name}` };
  }
  for (const key of Object.keys(value)) {
    const found = findProblem(
      (value as Record<string, unknown>)[key],
      path === "" ? key : `${path}.${key}`,
      seen,
      next,
    );
    if (found) return found;
  }
  return undefined;
}
