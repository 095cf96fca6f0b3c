/**
 * The canonical encoding of JavaScript values: the bytes behind every cache key and action id.
 *
 * A value is walked once and written as a self-delimiting tree of tagged nodes. Equal data gives
 * equal bytes whatever the object key order or Map and Set insertion order, in any process, on
 * any host. The format is a contract: keys must stay stable across processes and releases, so
 * any change to it must bump {@link CANONICAL_SCHEMA_VERSION}.
 *
 * ## Format (schema version 1)
 *
 * A node is one tag byte followed by its payload. Integers are unsigned big-endian: `u8`, `u32`,
 * `u64`. A `str` is `u32` byte length + the string's WTF-8 bytes (UTF-8 for well-formed strings;
 * a lone surrogate is written as its own 3-byte sequence, so distinct strings never collide).
 * A `bin` is `u64` byte length + the bytes themselves when there are at most 65,536 of them,
 * or else the 32-byte SHA-256 of the bytes (the length says which form follows).
 *
 * | tag    | value                                 | payload                                     |
 * |--------|---------------------------------------|---------------------------------------------|
 * | `0x00` | `undefined` (also an array hole)      | —                                           |
 * | `0x01` | `null`                                | —                                           |
 * | `0x02` | `false`                               | —                                           |
 * | `0x03` | `true`                                | —                                           |
 * | `0x04` | finite number (integer or not)        | IEEE-754 float64, big-endian; `-0` as `0`   |
 * | `0x05` | `NaN`                                 | —                                           |
 * | `0x06` | `Infinity`                            | —                                           |
 * | `0x07` | `-Infinity`                           | —                                           |
 * | `0x08` | bigint                                | `str` of its decimal form (`-` if negative) |
 * | `0x09` | string                                | `str`                                       |
 * | `0x0a` | Uint8Array, Buffer, ArrayBuffer, SharedArrayBuffer, DataView | `bin`                |
 * | `0x0b` | any other typed array                 | `u8` length + ASCII dtype, then `bin` of its little-endian bytes |
 * | `0x0c` | Date                                  | float64 big-endian milliseconds since epoch (NaN when invalid) |
 * | `0x0d` | RegExp                                | `str` source, `str` flags                   |
 * | `0x10` | Array                                 | `u32` length, then each element in order    |
 * | `0x11` | plain object (prototype `Object.prototype` or `null`) | `u32` count, then `str` key + value node per own enumerable string key, keys in UTF-16 code-unit order |
 * | `0x12` | Map                                   | `u32` count, then key node + value node per entry, entries in byte order of their encoding |
 * | `0x13` | Set                                   | `u32` count, then element nodes in byte order of their encoding |
 * | `0x14` | `flyte.File` (`{ kind: "flyte.File", path }`) | `u64` size + the 32-byte SHA-256 of the file's content |
 * | `0x15` | `flyte.Dir` (`{ kind: "flyte.Dir", path }`) | `u64` total size + the 32-byte SHA-256 of its tree (`dir-digest.ts`) |
 *
 * The dtype names are `int8`, `uint8clamped`, `int16`, `uint16`, `int32`, `uint32`, `float32`,
 * `float64`, `bigint64`, `biguint64` (and `float16` where the runtime has it).
 *
 * Decisions that follow from the table:
 * - Numbers carry no int/float distinction (JS cannot tell `1` from `1.0`), but `1n` ≠ `1` ≠ `"1"`.
 * - Bytes are bytes: a Buffer, a Uint8Array, an ArrayBuffer and a DataView over the same bytes
 *   give the same key. Typed arrays are raw data: `Float64Array` ≠ `Float32Array` with the same
 *   numbers, and `-0`/`NaN` payloads inside them are kept as they are.
 * - `{ a: undefined }` ≠ `{}`; a plain object and a Map with the same entries differ.
 * - Shared references encode by value, as if copied.
 * - What is ignored: non-enumerable properties, extra own properties on arrays, Maps, Sets, Dates
 *   and typed arrays, and a RegExp's `lastIndex`.
 * - Refused with a {@link RuntimeDataValidationError} (code `"UnhashableValue"`) whose message
 *   names the path to the value: functions, symbols, plain objects with enumerable symbol keys,
 *   class instances (any other prototype, subclasses of Array, Map and the rest included),
 *   Errors, Promises, WeakMaps, boxed primitives, cycles, and nesting deeper than
 *   1,000 levels. Values of other realms (a `vm` context) count as class instances.
 *
 * A `flyte.File` is keyed by its content only: the same bytes at another path give the same key,
 * and an edit gives a new one. Its digest is streamed and remembered by (path, size, mtime)
 * (`file-digest.ts`). Tag `0x14` was added without a schema bump: no earlier value encodes to it.
 * A `flyte.Dir` is keyed by the relative paths and contents of everything under it, never its
 * own path or timestamps; tag `0x15` was added the same way.
 *
 * The hash ({@link canonicalHash}) is SHA-256 over the ASCII salt `flyte-ts/canonical/v<N>\n`
 * followed by the encoding.
 *
 * @module
 */

import { endianness } from "node:os";
import { Dir } from "../api/dir.js";
import { File } from "../api/file.js";
import { RuntimeDataValidationError } from "../errors.js";
import { nodeCrypto } from "../internal/node-crypto.js";
import { dirDigest } from "./dir-digest.js";
import { fileDigest } from "./file-digest.js";

/**
 * The version of the canonical format, mixed into every {@link canonicalHash}. Bump it on any
 * change to the format or its rules, so that keys written by an older release never match.
 *
 * @example
 * ```ts
 * const key = `${CANONICAL_SCHEMA_VERSION}:${canonicalHash(inputs)}`;
 * ```
 */
export const CANONICAL_SCHEMA_VERSION = 1;

/** The `code` of the error raised for a value that has no canonical encoding. */
const UNHASHABLE = "UnhashableValue";
/** Binary payloads longer than this are replaced by their SHA-256. */
const INLINE_BYTES_MAX = 65_536;
const MAX_DEPTH = 1_000;
const SALT = new TextEncoder().encode(`flyte-ts/canonical/v${CANONICAL_SCHEMA_VERSION}\n`);
const LITTLE_ENDIAN = endianness() === "LE";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

const Tag = {
  undefined: 0x00,
  null: 0x01,
  false: 0x02,
  true: 0x03,
  number: 0x04,
  nan: 0x05,
  infinity: 0x06,
  negativeInfinity: 0x07,
  bigint: 0x08,
  string: 0x09,
  bytes: 0x0a,
  typedArray: 0x0b,
  date: 0x0c,
  regExp: 0x0d,
  array: 0x10,
  object: 0x11,
  map: 0x12,
  set: 0x13,
  file: 0x14,
  dir: 0x15,
} as const;

type TypedArray = Exclude<NodeJS.TypedArray, Uint8Array>;

/** What a prototype other than `Object.prototype`, `null` or `Array.prototype` stands for. */
const kindByPrototype = new Map<object, string>([
  [Map.prototype, "map"],
  [Set.prototype, "set"],
  [Date.prototype, "date"],
  [RegExp.prototype, "regExp"],
  [Uint8Array.prototype, "bytes"],
  [Buffer.prototype, "bytes"],
  [ArrayBuffer.prototype, "bytes"],
  [SharedArrayBuffer.prototype, "bytes"],
  [DataView.prototype, "bytes"],
]);
const dtypeByPrototype = new Map<object, string>([
  [Int8Array.prototype, "int8"],
  [Uint8ClampedArray.prototype, "uint8clamped"],
  [Int16Array.prototype, "int16"],
  [Uint16Array.prototype, "uint16"],
  [Int32Array.prototype, "int32"],
  [Uint32Array.prototype, "uint32"],
  [Float32Array.prototype, "float32"],
  [Float64Array.prototype, "float64"],
  [BigInt64Array.prototype, "bigint64"],
  [BigUint64Array.prototype, "biguint64"],
]);
const float16 = (globalThis as { Float16Array?: { prototype: object } }).Float16Array;
if (float16 !== undefined) dtypeByPrototype.set(float16.prototype, "float16");
for (const [prototype, dtype] of dtypeByPrototype) kindByPrototype.set(prototype, `dtype:${dtype}`);

const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed;

/**
 * Raised inside the walk; carries the path segments as the stack unwinds, so that building a
 * path costs nothing unless a value is refused.
 */
class Refusal {
  /** Path segments from the refused value up to the root (innermost first). */
  readonly segments: string[] = [];
  constructor(
    readonly describe: (path: string, ancestorPath: string) => string,
    /** For a cycle: the depth of the ancestor the value refers back to; otherwise -1. */
    readonly ancestorDepth = -1,
  ) {}
}

/** Writes one value's encoding into a growing buffer that is reused from call to call. */
class Writer {
  busy = false;
  pos = 0;
  #buf = Buffer.allocUnsafe(8_192);
  #view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  /** The containers being encoded, outermost first: `#depth` of them (the array is reused). */
  #ancestors: (object | undefined)[] = [];
  #depth = 0;

  get bytes(): Buffer {
    return this.#buf.subarray(0, this.pos);
  }

  begin(salted: boolean): void {
    this.busy = true;
    this.pos = 0;
    this.#depth = 0;
    if (salted) {
      this.#buf.set(SALT, 0);
      this.pos = SALT.length;
    }
  }

  end(): void {
    this.busy = false;
    // A huge value must not pin its buffer for the life of the process.
    if (this.#buf.byteLength > 1 << 20) this.#grow(0, 8_192);
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "number":
        this.#number(v);
        break;
      case "string":
        this.#tagOnly(Tag.string);
        this.#string(v);
        break;
      case "boolean":
        this.#tagOnly(v ? Tag.true : Tag.false);
        break;
      case "undefined":
        this.#tagOnly(Tag.undefined);
        break;
      case "bigint":
        this.#tagOnly(Tag.bigint);
        this.#string(v.toString());
        break;
      case "object":
        if (v === null) this.#tagOnly(Tag.null);
        else this.#object(v);
        break;
      case "function":
        throw new Refusal(
          (path) =>
            `\`${path}\` is a function, which has no canonical encoding. Remove it from the value, or pass the data it stands for.`,
        );
      default:
        throw new Refusal(
          (path) =>
            `\`${path}\` is a symbol, which has no canonical encoding. Pass a string instead.`,
        );
    }
  }

  #tagOnly(tag: number): void {
    this.#ensure(1);
    this.#buf[this.pos++] = tag;
  }

  #number(n: number): void {
    this.#ensure(9);
    if (Number.isFinite(n)) {
      this.#buf[this.pos] = Tag.number;
      // `+ 0` turns -0 into 0.
      this.#view.setFloat64(this.pos + 1, n + 0);
      this.pos += 9;
    } else {
      this.#buf[this.pos++] =
        n === Infinity ? Tag.infinity : n === -Infinity ? Tag.negativeInfinity : Tag.nan;
    }
  }

  #string(s: string): void {
    const n = s.length;
    this.#ensure(4 + 3 * n);
    const start = this.pos + 4;
    let p = start;
    if (n > 64 && isWellFormed?.call(s)) {
      p += this.#buf.write(s, start, "utf8");
    } else {
      const b = this.#buf;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80) {
          b[p++] = c;
        } else if (c < 0x800) {
          b[p++] = 0xc0 | (c >> 6);
          b[p++] = 0x80 | (c & 0x3f);
        } else {
          const d = c >= 0xd800 && c < 0xdc00 ? s.charCodeAt(i + 1) : 0;
          if (d >= 0xdc00 && d < 0xe000) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            b[p++] = 0xf0 | (cp >> 18);
            b[p++] = 0x80 | ((cp >> 12) & 0x3f);
            b[p++] = 0x80 | ((cp >> 6) & 0x3f);
            b[p++] = 0x80 | (cp & 0x3f);
            i++;
          } else {
            // WTF-8: a lone surrogate is written like any other code unit of the BMP.
            b[p++] = 0xe0 | (c >> 12);
            b[p++] = 0x80 | ((c >> 6) & 0x3f);
            b[p++] = 0x80 | (c & 0x3f);
          }
        }
      }
    }
    this.#view.setUint32(this.pos, p - start);
    this.pos = p;
  }

  #object(o: object): void {
    const prototype = Object.getPrototypeOf(o) as object | null;
    if (prototype === Object.prototype || prototype === null) {
      if (File.is(o)) this.#file(o);
      else if (Dir.is(o)) this.#dir(o);
      else this.#container(o, this.#plainObject);
      return;
    }
    const kind = prototype === Array.prototype ? "array" : kindByPrototype.get(prototype);
    switch (kind) {
      case "array":
        this.#container(o as unknown[], this.#array);
        break;
      case "map":
        this.#container(o as Map<unknown, unknown>, this.#map);
        break;
      case "set":
        this.#container(o as Set<unknown>, this.#set);
        break;
      case "bytes":
        this.#tagOnly(Tag.bytes);
        this.#binary(asBytes(o as ArrayBufferLike | ArrayBufferView));
        break;
      case "date":
        this.#date(o as Date);
        break;
      case "regExp":
        this.#tagOnly(Tag.regExp);
        this.#string((o as RegExp).source);
        this.#string((o as RegExp).flags);
        break;
      case undefined:
        throw new Refusal((path) => describeRefused(path, o));
      default:
        this.#typedArray(kind.slice("dtype:".length), o as TypedArray);
    }
  }

  /** Runs `encode` on a container, guarding against cycles and runaway depth. */
  #container<T extends object>(o: T, encode: (this: Writer, o: T) => void): void {
    const ancestors = this.#ancestors;
    const depth = this.#depth;
    for (let i = 0; i < depth; i++) {
      if (ancestors[i] === o) {
        throw new Refusal(
          (path, ancestorPath) =>
            `\`${path}\` refers back to \`${ancestorPath}\`, which contains it (a cycle), so it has no canonical encoding. Break the cycle, e.g. refer to the ancestor by an id.`,
          i,
        );
      }
    }
    if (depth >= MAX_DEPTH) {
      throw new Refusal(
        (path) =>
          `\`${path}\` is nested more than ${MAX_DEPTH} levels deep, too deep to encode. Flatten the value (e.g. a list instead of a linked chain).`,
      );
    }
    ancestors[depth] = o;
    this.#depth = depth + 1;
    try {
      encode.call(this, o);
    } finally {
      this.#depth = depth;
      ancestors[depth] = undefined;
    }
  }

  #plainObject(o: object): void {
    const record = o as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    this.#symbolKeys(o);
    const n = keys.length;
    this.#header(Tag.object, n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const key = keys[i] as string;
        this.#string(key);
        this.value(record[key]);
      }
    } catch (error) {
      throw addSegment(error, () => propertySegment(keys[i] as string));
    }
  }

  #file(file: File): void {
    let digest: { size: number; digest: Buffer };
    try {
      digest = fileDigest(file.path);
    } catch (error) {
      throw new Refusal(
        (path) =>
          `\`${path}\` is the file ${file.path}, which cannot be read (${error instanceof Error ? error.message : String(error)}). Check the path.`,
      );
    }
    this.#digest(Tag.file, digest.size, digest.digest);
  }

  #dir(dir: Dir): void {
    let digest: { bytes: number; digest: Buffer };
    try {
      digest = dirDigest(dir.path);
    } catch (error) {
      throw new Refusal(
        (path) =>
          `\`${path}\` is the directory ${dir.path}, whose content cannot be hashed: ${error instanceof Error ? error.message : String(error)}. Pass flyte.Dir.fromLocal() the path of a readable directory.`,
      );
    }
    this.#digest(Tag.dir, digest.bytes, digest.digest);
  }

  /** A tag, a `u64` size and a 32-byte digest. */
  #digest(tag: number, size: number, digest: Buffer): void {
    this.#ensure(41);
    this.#buf[this.pos] = tag;
    this.#view.setUint32(this.pos + 1, Math.floor(size / 2 ** 32));
    this.#view.setUint32(this.pos + 5, size >>> 0);
    this.pos += 9;
    this.pos += digest.copy(this.#buf, this.pos);
  }

  #symbolKeys(o: object): void {
    const symbols = Object.getOwnPropertySymbols(o);
    if (symbols.length === 0) return;
    const symbol = symbols.find((s) => Object.prototype.propertyIsEnumerable.call(o, s));
    if (symbol === undefined) return;
    throw new Refusal(
      (path) =>
        `\`${path}\` has a symbol-keyed property \`${String(symbol)}\`, which has no canonical encoding. Use a string key, or make the property non-enumerable.`,
    );
  }

  #array(a: unknown[]): void {
    const n = a.length;
    this.#header(Tag.array, n);
    let i = 0;
    try {
      for (; i < n; i++) this.value(a[i]);
    } catch (error) {
      throw addSegment(error, () => `[${i}]`);
    }
  }

  #map(m: Map<unknown, unknown>): void {
    const n = m.size;
    this.#header(Tag.map, n);
    const starts = new Array<number>(n + 1);
    let i = 0;
    for (const [key, value] of m) {
      starts[i] = this.pos;
      try {
        this.value(key);
      } catch (error) {
        throw addSegment(error, () => `.keys()[${i}]`);
      }
      try {
        this.value(value);
      } catch (error) {
        throw addSegment(error, () => mapValueSegment(key, i));
      }
      i++;
    }
    starts[n] = this.pos;
    this.#sortRanges(starts);
  }

  #set(s: Set<unknown>): void {
    const n = s.size;
    this.#header(Tag.set, n);
    const starts = new Array<number>(n + 1);
    let i = 0;
    try {
      for (const element of s) {
        starts[i] = this.pos;
        this.value(element);
        i++;
      }
    } catch (error) {
      throw addSegment(error, () => `.values()[${i}]`);
    }
    starts[n] = this.pos;
    this.#sortRanges(starts);
  }

  /**
   * Reorders the adjacent byte ranges `[starts[i], starts[i + 1])` into byte order. Encodings are
   * self-delimiting, so byte order of a Map entry (key then value) orders by key first.
   */
  #sortRanges(starts: number[]): void {
    const n = starts.length - 1;
    const buf = this.#buf;
    const compare = (a: number, b: number): number =>
      buf.compare(buf, starts[b], starts[b + 1], starts[a], starts[a + 1]);
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = compare(i - 1, i) <= 0;
    if (sorted) return;
    const order = Array.from({ length: n }, (_, i) => i).sort(compare);
    const first = starts[0] as number;
    const copy = Buffer.from(buf.subarray(first, starts[n]));
    let p = first;
    for (const i of order) {
      p += copy.copy(buf, p, (starts[i] as number) - first, (starts[i + 1] as number) - first);
    }
  }

  #date(d: Date): void {
    // An invalid Date is a value like any other (a parsed empty field, say): its time is NaN,
    // and `getTime()` always gives the one canonical NaN, so all invalid Dates encode alike.
    const ms = d.getTime();
    this.#ensure(9);
    this.#buf[this.pos] = Tag.date;
    this.#view.setFloat64(this.pos + 1, ms);
    this.pos += 9;
  }

  #typedArray(dtype: string, a: TypedArray): void {
    this.#ensure(2 + dtype.length);
    this.#buf[this.pos++] = Tag.typedArray;
    this.#buf[this.pos++] = dtype.length;
    this.pos += this.#buf.write(dtype, this.pos, "latin1");
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    this.#binary(LITTLE_ENDIAN ? bytes : swapBytes(bytes, a.BYTES_PER_ELEMENT));
  }

  #binary(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    this.#ensure(8 + Math.min(n, INLINE_BYTES_MAX + 1));
    this.#view.setUint32(this.pos, Math.floor(n / 2 ** 32));
    this.#view.setUint32(this.pos + 4, n >>> 0);
    this.pos += 8;
    if (n > INLINE_BYTES_MAX) {
      this.#ensure(32);
      this.pos += nodeCrypto().hash("sha256", bytes, "buffer").copy(this.#buf, this.pos);
    } else {
      this.#buf.set(bytes, this.pos);
      this.pos += n;
    }
  }

  #header(tag: number, count: number): void {
    this.#ensure(5);
    this.#buf[this.pos] = tag;
    this.#view.setUint32(this.pos + 1, count);
    this.pos += 5;
  }

  #ensure(extra: number): void {
    if (this.pos + extra > this.#buf.byteLength) this.#grow(this.pos, this.pos + extra);
  }

  #grow(keep: number, atLeast: number): void {
    const next = Buffer.allocUnsafe(Math.max(atLeast, keep * 2, 8_192));
    this.#buf.copy(next, 0, 0, keep);
    this.#buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}

function asBytes(o: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(o)
    ? new Uint8Array(o.buffer, o.byteOffset, o.byteLength)
    : new Uint8Array(o);
}

/** A little-endian copy of a big-endian host's typed-array bytes. */
function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j] as number;
  }
  return out;
}

function describeRefused(path: string, o: object): string {
  const advice =
    "Pass plain data instead (objects, arrays, Maps, Sets, Dates, typed arrays, primitives)";
  if (o instanceof Promise) {
    return `\`${path}\` is a Promise, which has no canonical encoding. Await it and pass its value.`;
  }
  if (o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef) {
    return `\`${path}\` is a ${o.constructor.name}, whose contents cannot be listed, so it has no canonical encoding. Pass a Map or Set instead.`;
  }
  if (o instanceof Error) {
    return `\`${path}\` is an Error (${o.name}), which has no canonical encoding. ${advice}, e.g. { name, message }.`;
  }
  if (o instanceof Number || o instanceof String || o instanceof Boolean) {
    return `\`${path}\` is a boxed ${o.constructor.name} object, which has no canonical encoding. Pass the primitive value (\`.valueOf()\`) instead.`;
  }
  const name = (o as { constructor?: { name?: unknown } }).constructor?.name;
  const className = typeof name === "string" && name !== "" ? name : "(anonymous)";
  return `\`${path}\` is an instance of class \`${className}\`, which has no canonical encoding. ${advice}: convert it to a plain object before the call.`;
}

function addSegment(error: unknown, segment: () => string): unknown {
  if (error instanceof Refusal) error.segments.push(segment());
  return error;
}

function propertySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function mapValueSegment(key: unknown, index: number): string {
  switch (typeof key) {
    case "string":
      return `.get(${JSON.stringify(key)})`;
    case "number":
    case "boolean":
    case "undefined":
      return `.get(${String(key)})`;
    case "bigint":
      return `.get(${key}n)`;
    default:
      return key === null ? ".get(null)" : `.values()[${index}]`;
  }
}

function toError(refusal: Refusal, root: string): RuntimeDataValidationError {
  const segments = refusal.segments.reverse();
  const path = root + segments.join("");
  const ancestorPath = root + segments.slice(0, Math.max(refusal.ancestorDepth, 0)).join("");
  return new RuntimeDataValidationError(refusal.describe(path, ancestorPath), {
    code: UNHASHABLE,
  });
}

const pooled = new Writer();

/** Encodes `value` with a free writer (a fresh one if a getter re-entered us) and hands it on. */
function withEncoding<T>(value: unknown, root: string, salted: boolean, use: (b: Buffer) => T): T {
  const writer = pooled.busy ? new Writer() : pooled;
  writer.begin(salted);
  try {
    writer.value(value);
    return use(writer.bytes);
  } catch (error) {
    throw error instanceof Refusal ? toError(error, root) : error;
  } finally {
    writer.end();
  }
}

/**
 * Encodes a value into its canonical bytes (the format in this module's documentation): equal
 * data gives equal bytes whatever its key or insertion order, in any process.
 *
 * @param value - the value to encode: primitives, plain objects, arrays, Maps, Sets, Dates,
 *   RegExps, typed arrays, Buffers, ArrayBuffers and DataViews, nested in any way.
 * @param root - the name of the value in error messages. @default "value"
 * @returns a fresh Uint8Array the caller owns.
 * @throws RuntimeDataValidationError (code `"UnhashableValue"`) for a value with no canonical
 *   encoding (a function, symbol, class instance, cycle, …); the message names its path, e.g.
 *   `inputs.config.handler`.
 *
 * @example
 * ```ts
 * canonicalBytes({ b: 1, a: [true] }); // equal to canonicalBytes({ a: [true], b: 1 })
 * canonicalBytes({ f: () => 1 }, "inputs"); // throws: `inputs.f` is a function, ...
 * ```
 */
export function canonicalBytes(value: unknown, root = "value"): Uint8Array {
  return withEncoding(value, root, false, (bytes) => new Uint8Array(bytes));
}

/**
 * The hex SHA-256 of a value's canonical encoding, salted with {@link CANONICAL_SCHEMA_VERSION}:
 * the key under which equal inputs meet, across processes and days.
 *
 * @param value - the value to hash; see {@link canonicalBytes} for what is accepted.
 * @param root - the name of the value in error messages. @default "value"
 * @returns 64 lowercase hex characters.
 * @throws RuntimeDataValidationError (code `"UnhashableValue"`) as {@link canonicalBytes} does.
 *
 * @example
 * ```ts
 * canonicalHash(new Map([["x", 1], ["y", 2]])) === canonicalHash(new Map([["y", 2], ["x", 1]])); // true
 * canonicalHash({ a: undefined }) === canonicalHash({}); // false
 * ```
 */
export function canonicalHash(value: unknown, root = "value"): string {
  return withEncoding(value, root, true, (bytes) => nodeCrypto().hash("sha256", bytes, "hex"));
}
