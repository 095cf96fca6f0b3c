// The function-body cache version hashes a task's function as written, read through the module's
// source map, not the code tsx runs (esbuild renames a function whose name is taken).
import { readFileSync } from "node:fs";
import { Cache } from "flyte-ts";
import { describe, expect, it } from "vitest";
import { runNode } from "../fixtures/cli/cli-process.js";

/** The function of single-name.ts (the same text as the second of same-names.ts), as written. */
function aloneAsWritten(): string {
  const text = readFileSync(new URL("../fixtures/cache/single-name.ts", import.meta.url), "utf8");
  return text.slice(text.indexOf("async function square"), text.lastIndexOf("}") + 1);
}

describe("the function-body cache version under tsx", () => {
  it("hashes the source as written, so a same-named function in the module does not change it", async () => {
    const r = await runNode(["--import", "tsx", "test/fixtures/cache/print-versions.ts"]);
    expect(r.code).toBe(0);
    const versions = JSON.parse(r.stdout) as Record<string, string>;
    // The premise: tsx ran the second function under another name.
    expect(versions.secondRanAs).toBe("async function square2");
    expect(versions.second).toBe(versions.alone);
    expect(versions.second).not.toBe(versions.first);
    const expected = new Cache({ behavior: "auto" }).getVersion({
      func: () => {},
      source: aloneAsWritten(),
    });
    expect(versions.second).toBe(expected);
  });
});
