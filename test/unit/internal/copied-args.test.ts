import { describe, expect, it } from "vitest";
import { copiedArgs } from "../../../src/internal/copied-args.js";

describe("copiedArgs", () => {
  it("returns the same array when every argument is a primitive", () => {
    const args = [1, "a", undefined, null, 2n];
    expect(copiedArgs(args)).toBe(args);
  });

  it("copies plain data, so later changes by the caller do not reach the copy", () => {
    const config = { lr: 0.1, layers: [1, 2], tags: new Set(["a"]), at: new Date(0) };
    const copied = copiedArgs([config, 3]);
    config.lr = 9;
    config.layers.push(3);
    expect(copied[0]).toEqual({ lr: 0.1, layers: [1, 2], tags: new Set(["a"]), at: new Date(0) });
    expect(copied[1]).toBe(3);
  });

  it("keeps a Buffer a Buffer and a typed array its type", () => {
    const bytes = Buffer.from("ab");
    const copied = copiedArgs([bytes, new Float32Array([1.5]), { inner: Buffer.from("c") }]);
    bytes[0] = 0x7a;
    expect(Buffer.isBuffer(copied[0])).toBe(true);
    expect((copied[0] as Buffer).toString()).toBe("ab");
    expect(copied[1]).toBeInstanceOf(Float32Array);
    expect(Buffer.isBuffer((copied[2] as { inner: unknown }).inner)).toBe(true);
  });

  it("keeps class instances and values holding functions as they are (issuing reports them)", () => {
    class Model {
      weights = [1];
    }
    const model = new Model();
    const withFunction = { f: () => 1 };
    const copied = copiedArgs([model, withFunction]);
    expect(copied[0]).toBe(model);
    expect(copied[1]).toBe(withFunction);
  });
});
