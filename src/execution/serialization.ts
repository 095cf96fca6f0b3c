/**
 * How values cross to a worker: to a child process as msgpackr bytes with its structured-clone
 * extensions (Map, Set, Date, BigInt, typed arrays, Buffer, Error, undefined, shared and cyclic
 * references); to a worker thread by the thread's own structured clone, which keeps the same
 * types and costs far less per message than an encoded byte array. Values that would not survive
 * the trip are refused before they are sent.
 * @module
 */
import { Packr } from "msgpackr";
import {
  type ErrorData,
  errorFromData,
  errorToData,
  RuntimeDataValidationError,
  rememberClass,
} from "../errors.js";

// `moreTypes` keeps typed arrays intact (bare `pack()` corrupts them, reference/dependencies.md §3);
// `structuredClone` keeps shared and cyclic references; records plus `mapsAsObjects: false` keep
// Map a Map while plain objects stay objects (with `useRecords: false` a Map decodes as an object).
const packr = new Packr({ moreTypes: true, structuredClone: true, mapsAsObjects: false });

/** Encodes a value into a payload that owns its bytes. */
export function pack(value: unknown): Uint8Array {
  // msgpackr returns a view on its reusable buffer: copy it, or the view would carry (and a
  // later pack would overwrite) the whole buffer.
  return new Uint8Array(packr.pack(value));
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

/** Child processes: msgpackr bytes (IPC with `serialization: "advanced"` carries them as is). */
export const processWire: Wire = {
  encode: (value) => pack(value),
  decode: (payload) => unpack(payload as Uint8Array),
  encodeError: (error) => packError(error),
  decodeError: (payload) => unpackError(payload as Uint8Array),
};

/** Decodes a payload made by {@link pack}. */
export function unpack(payload: Uint8Array): unknown {
  return packr.unpack(payload);
}

const builtinErrors: Readonly<Record<string, ErrorConstructor>> = {
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Packs an error as plain data (see `errorToData`). */
export function packError(error: unknown): Uint8Array {
  return pack(errorToData(error));
}

/** Rebuilds an error packed by {@link packError}, as its own class where this side knows it. */
export function unpackError(payload: Uint8Array): Error {
  return rebuildError(unpack(payload) as ErrorData);
}

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
 * Throws {@link RuntimeDataValidationError} when `value` holds something that cannot cross to a
 * worker intact: a function, a symbol, or a class instance (its methods would be lost).
 * `what` names the value in the message, e.g. "Input `x` of task `env.f`".
 */
export function checkCrossable(value: unknown, what: () => string): void {
  const problem = findProblem(value, "", new Set());
  if (problem !== undefined) {
    const where = problem.path === "" ? "" : ` (at \`${problem.path}\`)`;
    throw new RuntimeDataValidationError(
      `${what()}${where} is ${problem.type}, which cannot be sent to a worker. ` +
        'Pass plain data (objects, arrays, Map, Set, Date, typed arrays, Buffer), or give the environment `runtime: "inline"`.',
    );
  }
}

/** {@link checkCrossable} for each argument; `what(i)` names argument `i`. */
export function checkArgs(args: readonly unknown[], what: (index: number) => string): void {
  for (let i = 0; i < args.length; i++) checkCrossable(args[i], () => what(i));
}

interface Problem {
  readonly path: string;
  readonly type: string;
}

function findProblem(value: unknown, path: string, seen: Set<object>): Problem | undefined {
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
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProblem(value[i], `${path}[${i}]`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      const found =
        findProblem(key, `${path}<key>`, seen) ??
        findProblem(item, `${path}<${String(key)}>`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const item of value) {
      const found = findProblem(item, `${path}<item>`, seen);
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
    );
    if (found) return found;
  }
  return undefined;
}
