// A process's first run starts its root's worker thread (the spare) before the engine has loaded,
// and the spare imports the root task's module as soon as it has loaded the engine: the module is
// imported once on that thread (the pool's own load finds the import made), and the run's output
// comes from it.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runNode } from "../fixtures/cli/cli-process.js";

beforeAll(ensureBuilt, 300_000);

describe("the spare thread of a process's first run", () => {
  it("is started for the root task, imports its module once and runs the root", async () => {
    const home = mkdtempSync(join(tmpdir(), "flyte-ts-spare-"));
    const imports = join(home, "imports.jsonl");
    const r = await runNode(
      ["--import", "tsx", "test/fixtures/pools/spare-preload.ts"],
      { FLYTE_TS_HOME: home, FLYTE_TS_TEST_IMPORTS: imports },
      120_000,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const output = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    const lines = readFileSync(imports, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { threadId: output.threadId, spare: true, task: "spare-preload.where" },
    ]);
    expect(output).toMatchObject({ x: 7, inWorker: true });
  });
});
