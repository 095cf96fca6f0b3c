// `flyte-ts run` of JavaScript programs: imported without tsx's loader when they need none, with
// it when they import TypeScript.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "../fixtures/cli/cli-process.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-cli-js-"));
  await ensureBuilt();
});

afterAll(() => rm(home, { recursive: true, force: true }));

describe("flyte-ts run of a JavaScript program", () => {
  it("runs a task of a plain JavaScript program on a worker", async () => {
    const r = await runCli(
      ["run", "--quiet", "test/fixtures/cli/plain-program.js", "double", "--x", "21"],
      { FLYTE_TS_HOME: home },
    );
    expect(r).toMatchObject({ code: 0, stdout: "42\n", stderr: "" });
  });

  it("runs a task a JavaScript program imports from a TypeScript module", async () => {
    const r = await runCli(
      ["run", "--quiet", "test/fixtures/cli/imports-typescript.js", "whereThread", "--name", "X"],
      { FLYTE_TS_HOME: home, X: "seen" },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: "seen" });
  });
});
