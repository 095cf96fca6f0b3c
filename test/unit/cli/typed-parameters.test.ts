import { describe, expect, it } from "vitest";
import { bindArguments } from "../../../src/cli/bind-parameters.js";
import { coerceText } from "../../../src/cli/coerce-value.js";
import { closest } from "../../../src/cli/did-you-mean.js";
import { describeType, parseType, typeOfDefault } from "../../../src/cli/parameter-types.js";
import { signatureOf } from "../../../src/cli/task-signature.js";
import { arrow, shapes, spread, texts, train } from "../../fixtures/cli/typed.js";

const flag = (name: string, value: string | true = true) => ({ name, value });

describe("parameter types", () => {
  it("reads keywords, literals, unions, arrays, tuples and objects from annotations", () => {
    expect(parseType("number")).toEqual({ kind: "number" });
    expect(parseType("string[]")).toEqual({ kind: "array", element: { kind: "string" } });
    expect(parseType("Array<number | null>")).toEqual({
      kind: "array",
      element: { kind: "union", members: [{ kind: "number" }, { kind: "null" }] },
    });
    expect(parseType('"a" | "b"')).toEqual({
      kind: "union",
      members: [
        { kind: "literal", value: "a" },
        { kind: "literal", value: "b" },
      ],
    });
    expect(parseType("[string, number]").kind).toBe("tuple");
    expect(parseType("Record<string, number>").kind).toBe("object");
    expect(parseType("{ a: number; b: string }").kind).toBe("object");
    expect(parseType("flyte.File")).toEqual({ kind: "file" });
    expect(parseType("flyte.Dir")).toEqual({ kind: "dir" });
    expect(parseType("Whatever")).toEqual({ kind: "json", text: "Whatever" });
  });

  it("follows type aliases declared in the same module", () => {
    const aliases = new Map([["Mode", '"fast" | "slow"']]);
    expect(describeType(parseType("Mode", aliases))).toBe('"fast" | "slow"');
  });

  it("takes the type of a parameter without annotation from its literal default", () => {
    expect(typeOfDefault("10")).toEqual({ kind: "number" });
    expect(typeOfDefault('"x"')).toEqual({ kind: "string" });
    expect(typeOfDefault("false")).toEqual({ kind: "boolean" });
    expect(typeOfDefault("someCall()")).toBeUndefined();
  });
});

describe("coercing flag text", () => {
  it("makes a flyte.Dir of a directory path and refuses a path that is not a directory", () => {
    expect(coerceText({ kind: "dir" }, "test")).toEqual({
      ok: true,
      value: { kind: "flyte.Dir", path: `${process.cwd()}/test` },
    });
    expect(coerceText({ kind: "dir" }, "package.json")).toEqual({
      ok: false,
      problem: 'expects a directory path, but there is no directory "package.json"',
    });
  });

  it("parses numbers strictly and says what it expected", () => {
    expect(coerceText({ kind: "number" }, "0.01")).toEqual({ ok: true, value: 0.01 });
    expect(coerceText({ kind: "number" }, "ten")).toEqual({
      ok: false,
      problem: 'expects a number, got "ten"',
    });
    expect(coerceText({ kind: "number" }, "").ok).toBe(false);
  });

  it("refuses broken JSON for an array instead of passing it on as a string", () => {
    const result = coerceText(parseType("string[]"), '["a b"');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(/string\[\] \(JSON array\).*not valid JSON/);
  });

  it("checks array elements and names the bad one", () => {
    const result = coerceText(parseType("number[]"), '[1, "x"]');
    expect(!result.ok && result.problem).toBe('expects a number at [1], got "x"');
  });

  it("keeps a string parameter's text as written, digits included", () => {
    expect(coerceText({ kind: "string" }, "10")).toEqual({ ok: true, value: "10" });
  });

  it("tries the strictest member of a union first", () => {
    expect(coerceText(parseType("number | string"), "10")).toEqual({ ok: true, value: 10 });
    expect(coerceText(parseType("number | string"), "ten")).toEqual({ ok: true, value: "ten" });
    const choice = coerceText(parseType('"fast" | "slow"'), "turbo");
    expect(!choice.ok && choice.problem).toBe('expects one of "fast" | "slow", got "turbo"');
  });

  it("reads JSON for a parameter of unknown type, and refuses text that is broken JSON", () => {
    expect(coerceText({ kind: "json", text: "unknown" }, "[1,2]")).toEqual({
      ok: true,
      value: [1, 2],
    });
    expect(coerceText({ kind: "json", text: "unknown" }, "hello")).toEqual({
      ok: true,
      value: "hello",
    });
    expect(coerceText({ kind: "json", text: "unknown" }, '{"a":').ok).toBe(false);
  });
});

describe("task signatures read from the source", () => {
  it("reads annotations, aliases, optional parameters and defaults of a task", () => {
    const byName = Object.fromEntries(signatureOf(train).map((p) => [p.name, p]));
    expect(byName.lr).toMatchObject({
      optional: false,
      type: { kind: "number" },
      typeText: "number",
    });
    expect(describeType(byName.mode?.type ?? { kind: "string" })).toBe('"fast" | "slow"');
    expect(byName.layers?.type).toEqual({ kind: "array", element: { kind: "number" } });
    expect(byName.verbose?.type).toEqual({ kind: "boolean" });
    expect(byName.name?.optional).toBe(true);
    expect(byName.options?.type?.kind).toBe("object");
  });

  it("finds an arrow function's parameter list by its names", () => {
    expect(signatureOf(arrow).map((p) => p.type)).toEqual([{ kind: "number" }, { kind: "string" }]);
  });

  it("types a rest parameter as an array", () => {
    expect(signatureOf(spread)[1]?.type).toEqual({ kind: "array", element: { kind: "number" } });
  });
});

describe("binding flags to typed parameters", () => {
  it("converts each flag to its parameter's type", () => {
    expect(
      bindArguments(train, [
        flag("lr", "0.5"),
        flag("mode", "slow"),
        flag("layers", "[8]"),
        flag("verbose"),
      ]),
    ).toEqual([0.5, "slow", [8], true]);
  });

  it("allows a bare flag only for a boolean parameter", () => {
    expect(() => bindArguments(train, [flag("lr")])).toThrow(
      /--lr needs a value: number \(a flag with no value is only for booleans\)/,
    );
  });

  it("names the parameter, the expected type and the value of every wrong flag at once", () => {
    let message = "";
    try {
      bindArguments(texts, [flag("texts", '["a b"'), flag("limit", "many")]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/--texts expects string\[\] \(JSON array\), but .* is not valid JSON/);
    expect(message).toMatch(/--limit expects number \| null, got "many"/);
    expect(message).toMatch(/--texts\s+string\[\] \(JSON array\)\s+required/);
  });

  it("suggests the closest parameter for a mistyped flag", () => {
    expect(() => bindArguments(train, [flag("lr", "1"), flag("lyers", "[1]")])).toThrow(
      /unknown parameter --lyers\. Did you mean `--layers`\?/,
    );
  });

  it("spreads a rest parameter's JSON array", () => {
    expect(bindArguments(spread, [flag("first", "a"), flag("rest", "[1,2]")])).toEqual(["a", 1, 2]);
  });

  it("converts tuples, bigints, dates, literal unions and records", () => {
    const args = bindArguments(shapes, [
      flag("pair", '["x", 2]'),
      flag("seed", "12345678901234567890"),
      flag("when", "2026-01-02T03:04:05Z"),
      flag("data", "package.json"),
      flag("anything", "plain"),
      flag("choice", "3"),
      flag("config", '{"a":1}'),
    ]);
    expect(args.slice(0, 3)).toEqual([
      ["x", 2],
      12345678901234567890n,
      new Date("2026-01-02T03:04:05Z"),
    ]);
    expect(args[3]).toMatchObject({ kind: "flyte.File" });
    expect(args.slice(4)).toEqual(["plain", 3, { a: 1 }]);
  });
});

describe("did you mean", () => {
  it("finds close names and ignores far ones", () => {
    expect(closest("mian", ["main", "square", "mean-shift"])).toEqual(["main"]);
    expect(closest("zzz", ["main"])).toEqual([]);
  });
});
