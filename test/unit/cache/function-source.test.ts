import { describe, expect, it } from "vitest";
import { lastArgumentOfCall } from "../../../src/cache/function-source.js";

describe("lastArgumentOfCall", () => {
  it("takes the function after the options of env.task(options, fn), as written", () => {
    const text = `export const f = env.task({ retries: 2, name: "a,b" }, async function f(x: number) {
  return x; // a comment, with a comma )
});`;
    expect(lastArgumentOfCall(text, text.indexOf("env.task"))).toBe(
      "async function f(x: number) {\n  return x; // a comment, with a comma )\n}",
    );
  });

  it("skips brackets and commas in strings, template literals, comments and regular expressions", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is source code with a template literal.
    const body = 'async (s: string) => `${s.replace(/[(,]/g, ")")}, ${[1, 2].join(",")}` /* ) */';
    const text = `env.task({ name: "t" }, ${body}, );`;
    expect(lastArgumentOfCall(text, 0)).toBe(body);
  });

  it("finds nothing where no call starts", () => {
    expect(lastArgumentOfCall("const x = 1;", 0)).toBeUndefined();
    expect(lastArgumentOfCall("env.task(async function f() {", 0)).toBeUndefined();
  });
});
