import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { shortId } from "../../../src/internal/hash.js";

describe("shortId", () => {
  it("is base36 of the MD5's first 64 bits, the id stored runs were recorded with", () => {
    // A resumed run finds its actions by these ids: they must never change.
    expect(shortId("a0-abc-env.t-1")).toBe("dfbcsm9l0tu2");
    expect(shortId("x")).toBe("2eems02unj8dw");
    for (let i = 0; i < 200; i++) {
      const text = `a0-${i}-bench.inc-${i * 7}`;
      const expected = createHash("md5").update(text).digest().readBigUInt64BE(0).toString(36);
      expect(shortId(text)).toBe(expected);
    }
  });
});
