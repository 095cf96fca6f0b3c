// The one place secrets are masked: text and values, copy-on-write, every form of a secret.
import { describe, expect, it } from "vitest";
import { SecretMask } from "../../../src/internal/secret-mask.js";
import { differenceOf } from "../../fixtures/same-value.js";

const masked = (...secrets: string[]) => {
  const mask = new SecretMask();
  for (const secret of secrets) mask.add(secret);
  return mask;
};

describe("SecretMask", () => {
  it("replaces every occurrence of a known value with ***, the longest value first", () => {
    const mask = masked("hunter22", "hunter22-admin");
    expect(mask.maskText("a hunter22 b hunter22-admin")).toBe("a *** b ***");
  });

  it("masks the lines of a multi-line secret and its JSON-escaped form", () => {
    const key = '-----BEGIN KEY-----\nAbCdEf0123456789\n"quoted"-----END KEY-----';
    const mask = masked(key);
    expect(mask.maskText("line: AbCdEf0123456789")).toBe("line: ***");
    expect(mask.maskText(JSON.stringify({ key }))).not.toContain("AbCdEf");
    expect(mask.maskText(JSON.stringify({ key }))).not.toContain("quoted");
  });

  it("ignores values too short to mask without garbling ordinary text", () => {
    expect(masked("abc").maskText("abcabc")).toBe("abcabc");
    expect(masked("abc").size).toBe(0);
  });

  it("returns the very value when it holds no secret, and a masked copy when it does", () => {
    const mask = masked("s3cr3t-value");
    const clean = { a: [1, "two"], m: new Map([["k", "v"]]) };
    expect(mask.maskValue(clean)).toBe(clean);
    const dirty = { a: [1, "x s3cr3t-value"], m: new Map([["s3cr3t-value", 1]]), d: new Date(0) };
    const out = mask.maskValue(dirty);
    expect(out).not.toBe(dirty);
    expect(out.a).toEqual([1, "x ***"]);
    expect([...out.m.keys()]).toEqual(["***"]);
    expect(out.d).toBe(dirty.d);
    expect(dirty.a[1]).toBe("x s3cr3t-value");
  });

  it("keeps holes, cycles and errors' classes while masking", () => {
    const mask = masked("s3cr3t-value");
    // biome-ignore lint/suspicious/noSparseArray: the hole must survive
    const cyclic: Record<string, unknown> = { list: [, "s3cr3t-value"] };
    cyclic.self = cyclic;
    const out = mask.maskValue(cyclic) as Record<string, unknown>;
    expect(out.self).toBe(out);
    // biome-ignore lint/suspicious/noSparseArray: the hole must survive
    expect(differenceOf(out.list, [, "***"])).toBeUndefined();
    const error = mask.maskValue(new TypeError("bad s3cr3t-value"));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("bad ***");
    expect(error.stack).not.toContain("s3cr3t-value");
  });

  it("reads the values of the variables FLYTE_TS_SECRETS names, as a worker does", () => {
    const mask = new SecretMask({ FLYTE_TS_SECRETS: "A_TOKEN,MISSING", A_TOKEN: "tok-123456" });
    expect(mask.maskText("tok-123456")).toBe("***");
  });
});
