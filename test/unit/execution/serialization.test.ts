// What may cross to a worker: a Map keyed by objects crosses whatever the keys' own methods are,
// and a refused value inside such a Map is named by its path, not by a crash of the check.
import { describe, expect, it } from "vitest";
import { RuntimeDataValidationError } from "../../../src/errors.js";
import { checkCrossable, processWire } from "../../../src/execution/serialization.js";

describe("checkCrossable", () => {
  it("lets a Map keyed by an object whose toString is not a function cross", () => {
    const value = new Map<unknown, unknown>([[{ toString: 0 }, []]]);
    expect(() => checkCrossable(value, () => "Input `x`")).not.toThrow();
    expect(processWire.decode(processWire.encode(value))).toEqual(value);
  });

  it("names a refused value under an object key by the key's kind", () => {
    const value = new Map<unknown, unknown>([[{ toString: 0 }, () => 1]]);
    expect(() => checkCrossable(value, () => "Input `x`")).toThrow(RuntimeDataValidationError);
    expect(() => checkCrossable(value, () => "Input `x`")).toThrow(/<object>.*a function/);
  });
});
