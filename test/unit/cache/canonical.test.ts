import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANONICAL_SCHEMA_VERSION,
  canonicalBytes,
  canonicalHash,
} from "../../../src/cache/canonical.js";
import { type FlyteError, RuntimeDataValidationError } from "../../../src/errors.js";
import { canonicalSamples } from "../../fixtures/canonical-child.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const same = (a: unknown, b: unknown): boolean => canonicalHash(a) === canonicalHash(b);

// Map keys and Set elements stay primitive so that a mutation never merges two of them.
const key = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 3 }));
const leaf = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
);
const typedArray = fc.oneof(
  fc.float64Array({ maxLength: 4 }),
  fc.float32Array({ maxLength: 4 }),
  fc.int32Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 8 }),
);
const { value: plainData } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    typedArray,
    tie("array"),
    tie("object"),
    tie("map"),
    tie("set"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(fc.string({ maxLength: 4 }), tie("value"), { maxKeys: 4 }),
  map: fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.uniqueArray(key, { maxLength: 4 }).map((elements) => new Set(elements)),
}));

/** A deterministic shuffle, so a failing case replays from its seed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * A deep copy of equal canonical value but different shape: keys, entries and elements inserted
 * in another order, prototypes flipped between `Object.prototype` and `null`, typed arrays moved
 * to an offset in a larger buffer, Uint8Arrays turned into Buffers.
 */
function reorderedCopy(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => reorderedCopy(v, seed + i));
  if (value instanceof Map) {
    const entries = shuffled([...value], seed);
    return new Map(entries.map(([k, v], i) => [k, reorderedCopy(v, seed + i)]));
  }
  if (value instanceof Set) return new Set(shuffled([...value], seed));
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) {
    const Type = value.constructor as new (
      b: ArrayBuffer,
      offset: number,
      length: number,
    ) => object;
    const width = (value as Float64Array).BYTES_PER_ELEMENT;
    const moved = new ArrayBuffer(value.byteLength + 16);
    new Uint8Array(moved, 8).set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    return new Type(moved, 8, value.byteLength / width);
  }
  if (typeof value === "object" && value !== null) {
    const copy = Object.getPrototypeOf(value) === null ? {} : Object.create(null);
    for (const [k, v] of shuffled(Object.entries(value), seed)) {
      Object.defineProperty(copy, k, {
        value: reorderedCopy(v, seed + k.length),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
  return value;
}

/** Whether two leaves are the same canonical value (`0` and `-0` are; `NaN` is itself). */
function sameLeaf(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return typeof a === typeof b && (a === b || (Number.isNaN(a) && Number.isNaN(b)));
}

interface Slot {
  get(): unknown;
  set(v: unknown): void;
}

/** Every place a mutation can go: the root, object values, array elements and Map values. */
function slotsOf(root: { value: unknown }): Slot[] {
  const slots: Slot[] = [];
  const visit = (get: () => unknown, set: (v: unknown) => void): void => {
    slots.push({ get, set });
    const v = get();
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        visit(
          () => v[i],
          (x) => {
            v[i] = x;
          },
        );
      }
    } else if (v instanceof Map) {
      for (const k of v.keys())
        visit(
          () => v.get(k),
          (x) => v.set(k, x),
        );
    } else if (
      typeof v === "object" &&
      v !== null &&
      !(v instanceof Set) &&
      !(v instanceof Date) &&
      !ArrayBuffer.isView(v)
    ) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        visit(
          () => o[k],
          (x) => Object.defineProperty(o, k, { value: x }),
        );
      }
    }
  };
  visit(
    () => root.value,
    (x) => {
      root.value = x;
    },
  );
  return slots;
}

function refusal(value: unknown, root?: string): RuntimeDataValidationError {
  try {
    canonicalBytes(value, root);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeDataValidationError);
    expect((error as FlyteError).code).toBe("UnhashableValue");
    return error as RuntimeDataValidationError;
  }
  throw new Error("expected the value to be refused");
}

describe("canonicalHash", () => {
  it("gives equal keys for equal values whatever their key order or Map and Set insertion order", () => {
    fc.assert(
      fc.property(plainData, fc.nat(), (value, seed) => {
        expect(canonicalHash(reorderedCopy(value, seed))).toBe(canonicalHash(value));
      }),
      { numRuns: 300 },
    );
  });

  it("gives a different key when any part of a value changes", () => {
    fc.assert(
      fc.property(plainData, fc.nat(), fc.nat(2), leaf, (value, where, how, replacement) => {
        const before = canonicalHash(value);
        const root = { value: structuredClone(value) };
        const slots = slotsOf(root);
        const slot = slots[where % slots.length] as Slot;
        const old = slot.get();
        if (how === 0) slot.set([old]);
        else if (how === 1) {
          fc.pre(!sameLeaf(old, replacement));
          slot.set(replacement);
        } else {
          fc.pre(
            typeof old === "object" &&
              old !== null &&
              !Array.isArray(old) &&
              !(old instanceof Map) &&
              !(old instanceof Set) &&
              !(old instanceof Date) &&
              !ArrayBuffer.isView(old) &&
              !Object.hasOwn(old, "added"),
          );
          Object.defineProperty(old, "added", { value: replacement, enumerable: true });
        }
        expect(canonicalHash(root.value)).not.toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it("gives distinct primitives distinct bytes, lone surrogates included", () => {
    fc.assert(
      fc.property(leaf, leaf, (a, b) => {
        expect(hex(canonicalBytes(a)) === hex(canonicalBytes(b))).toBe(sameLeaf(a, b));
      }),
      { numRuns: 500 },
    );
    expect(same("\ud800", "\udc00")).toBe(false);
    expect(same("\ud800", "\ufffd")).toBe(false);
    expect(same("\ud800\udc00", "\u{10000}")).toBe(true);
  });

  it("writes well-formed strings as UTF-8, short or long", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (s) => {
        const utf8 = Buffer.from(s, "utf8");
        const expected = Buffer.alloc(5);
        expected[0] = 0x09;
        expected.writeUInt32BE(utf8.length, 1);
        expect(hex(canonicalBytes(s))).toBe(hex(Buffer.concat([expected, utf8])));
      }),
    );
  });

  it("tells undefined from a missing key, 1 from '1' and 1n, and treats -0 as 0", () => {
    expect(same({ a: undefined }, {})).toBe(false);
    expect(same([undefined], [])).toBe(false);
    expect(same(1, "1")).toBe(false);
    expect(same(1n, 1)).toBe(false);
    expect(same(1n, "1")).toBe(false);
    expect(same(0, -0)).toBe(true);
    expect(same({ x: [0] }, { x: [-0] })).toBe(true);
    expect(same(Number.NaN, Number.NaN)).toBe(true);
    expect(same(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(false);
    expect(same(null, undefined)).toBe(false);
  });

  it("encodes an array hole as undefined and keeps arrays, objects and Maps apart", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test.
    expect(same([1, , 3], [1, undefined, 3])).toBe(true);
    expect(same([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(same([[1], 2], [[1, 2]])).toBe(false);
    expect(same({ a: "b", c: "" }, { a: "", b: "c" })).toBe(false);
    expect(same({ a: 1 }, new Map([["a", 1]]))).toBe(false);
    expect(same([1, 2], new Set([1, 2]))).toBe(false);
    expect(same(Object.assign(Object.create(null), { a: 1 }), { a: 1 })).toBe(true);
  });

  it("hashes typed arrays by dtype and bytes, and all byte containers alike", () => {
    expect(same(new Float64Array([1, 2]), new Float32Array([1, 2]))).toBe(false);
    expect(same(new Int32Array([1]), new Uint32Array([1]))).toBe(false);
    expect(same(new Float64Array([1, 2]), [1, 2])).toBe(false);
    const bytes = new Uint8Array([1, 2, 3]);
    expect(same(Buffer.from([1, 2, 3]), bytes)).toBe(true);
    expect(same(bytes.buffer, bytes)).toBe(true);
    expect(same(new DataView(bytes.buffer), bytes)).toBe(true);
    expect(same(new Uint8Array([4, 1, 2, 3, 4]).subarray(1, 4), bytes)).toBe(true);
    expect(same(new Uint8ClampedArray([1, 2, 3]), bytes)).toBe(false);
  });

  it("replaces a byte payload over 64 KiB by its SHA-256 and still sees a one-byte change", () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const encoded = canonicalBytes(big);
    expect(encoded.length).toBe(1 + 8 + 32);
    expect(hex(encoded.subarray(9))).toBe(createHash("sha256").update(big).digest("hex"));
    const changed = big.slice();
    changed[99_999] = 0;
    expect(same(changed, big)).toBe(false);
    expect(
      same(new Float64Array(big.buffer, 0, 12_500), new Float32Array(big.buffer, 0, 25_000)),
    ).toBe(false);
  });

  it("encodes Dates by their time and RegExps by source and flags", () => {
    expect(same(new Date(5), new Date(5))).toBe(true);
    expect(same(new Date(5), 5)).toBe(false);
    expect(same(/a/g, /a/g)).toBe(true);
    expect(same(/a/g, /a/i)).toBe(false);
    expect(same(/a/g, "a")).toBe(false);
  });

  it("encodes shared references by value", () => {
    const shared = { n: 1 };
    expect(same({ a: shared, b: shared }, { a: { n: 1 }, b: { n: 1 } })).toBe(true);
  });

  it("keeps the documented format of schema version 1", () => {
    const value = { b: [1, undefined], a: new Map([["k", 2n]]), "x y": new Set([true, null]) };
    expect(CANONICAL_SCHEMA_VERSION).toBe(1);
    // If either line must change, the format changed: bump CANONICAL_SCHEMA_VERSION.
    expect(hex(canonicalBytes(value))).toBe(
      "1100000003" +
        ("0000000161" + "1200000001" + "09000000016b" + "080000000132") +
        ("0000000162" + "1000000002" + "043ff0000000000000" + "00") +
        ("00000003782079" + "1300000002" + "01" + "03"),
    );
    expect(canonicalHash(value)).toBe(
      createHash("sha256")
        .update("flyte-ts/canonical/v1\n")
        .update(canonicalBytes(value))
        .digest("hex"),
    );
    expect(canonicalHash(value)).toBe(
      "aa16367ed8fdfce5fbbc3d248c03558123bdb7a5a349c1c03594ed7b2d31176d",
    );
  });

  it("gives the same keys in a separate process", () => {
    const fixture = fileURLToPath(new URL("../../fixtures/canonical-child.ts", import.meta.url));
    const child = execFileSync(process.execPath, ["--import", "tsx", fixture], {
      encoding: "utf8",
    });
    expect(JSON.parse(child)).toEqual(canonicalSamples("reverse").map((v) => canonicalHash(v)));
  });

  it("returns bytes the caller owns and survives a getter that hashes during the walk", () => {
    const first = canonicalBytes("first");
    canonicalBytes("second, longer, overwriting the scratch buffer");
    expect(hex(first)).toBe(hex(canonicalBytes("first")));
    const reentrant = {
      get inner() {
        return canonicalHash({ deep: [1, 2, 3] });
      },
    };
    expect(canonicalHash(reentrant)).toBe(
      canonicalHash({ inner: canonicalHash({ deep: [1, 2, 3] }) }),
    );
  });
});

describe("canonicalBytes refusals", () => {
  it("refuses a class instance and names its path", () => {
    class Handler {}
    const error = refusal({ config: { handler: new Handler() } }, "inputs");
    expect(error.message).toMatch(/^`inputs\.config\.handler` is an instance of class `Handler`/);
    expect(error.message).toMatch(/convert it to a plain object/);
  });

  it("refuses functions and symbols, as values and as keys", () => {
    expect(refusal({ list: [1, () => 2] }, "inputs").message).toMatch(
      /^`inputs\.list\[1\]` is a function/,
    );
    expect(refusal(Symbol("s")).message).toMatch(/^`value` is a symbol/);
    expect(refusal({ "odd key": { [Symbol("s")]: 1 } }).message).toMatch(
      /^`value\["odd key"\]` has a symbol-keyed property `Symbol\(s\)`/,
    );
    expect(refusal(new Map([["k", Symbol("s")]])).message).toMatch(
      /^`value\.get\("k"\)` is a symbol/,
    );
    expect(refusal(new Map([[() => 1, 1]])).message).toMatch(
      /^`value\.keys\(\)\[0\]` is a function/,
    );
    expect(refusal(new Set([1, () => 1])).message).toMatch(
      /^`value\.values\(\)\[1\]` is a function/,
    );
  });

  it("refuses a cycle, naming the value and the ancestor it refers back to", () => {
    const a: Record<string, unknown> = {};
    a.b = { list: [a] };
    expect(refusal({ a }, "inputs").message).toMatch(
      /^`inputs\.a\.b\.list\[0\]` refers back to `inputs\.a`, which contains it \(a cycle\)/,
    );
    const m = new Map<string, unknown>();
    m.set("self", m);
    expect(refusal(m).message).toMatch(/^`value\.get\("self"\)` refers back to `value`/);
  });

  it("encodes every invalid Date alike, and unlike any valid one", () => {
    expect(canonicalHash(new Date(Number.NaN))).toBe(canonicalHash(new Date("not a date")));
    expect(canonicalHash(new Date(Number.NaN))).not.toBe(canonicalHash(new Date(0)));
  });

  it("refuses Promises, weak collections, Errors, boxed primitives and subclasses", () => {
    expect(refusal({ p: Promise.resolve(1) }).message).toMatch(/is a Promise.*Await it/);
    expect(refusal(new WeakMap()).message).toMatch(/is a WeakMap.*Pass a Map or Set/);
    expect(refusal(new RangeError("x")).message).toMatch(/is an Error \(RangeError\)/);
    expect(refusal(Object(1)).message).toMatch(/boxed Number.*primitive value/);
    class Rows extends Array {}
    expect(refusal(new Rows()).message).toMatch(/instance of class `Rows`/);
    class Vector extends Float64Array {}
    expect(refusal(new Vector(2)).message).toMatch(/instance of class `Vector`/);
  });

  it("refuses nesting deeper than 1,000 levels instead of overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5_000; i++) deep = [deep];
    expect(refusal(deep).message).toMatch(/nested more than 1000 levels deep/);
  });
});
