// The built engine starts from V8's code cache (engine-loader.ts): a program's first run makes
// the cache of this thread's engine and of each worker's, the next program's engines start from
// it, a damaged cache is made again (the program still runs, and an earlier build's cache goes),
// and FLYTE_TS_COMPILE_CACHE=0 turns it off.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot, runNode } from "../fixtures/cli/cli-process.js";

beforeAll(ensureBuilt, 300_000);

interface Seen {
  readonly used: boolean;
  readonly file: string | null;
}
type Report = { main: Seen | null; thread: Seen | null; process: Seen | null };

async function runProgram(env: Record<string, string>): Promise<Report> {
  const r = await runNode(["test/fixtures/engine-cache/program.mjs"], env, 120_000);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as Report;
}

const used = (report: Report) => [report.main?.used, report.thread?.used, report.process?.used];

describe("the engine's code cache", () => {
  it("is made by a first program, used by the next, and made again when damaged", async () => {
    const cache = mkdtempSync(join(tmpdir(), "flyte-ts-compile-cache-"));
    const env = {
      FLYTE_TS_HOME: mkdtempSync(join(tmpdir(), "flyte-ts-engine-cache-")),
      FLYTE_TS_COMPILE_CACHE: cache,
    };
    const first = await runProgram(env);
    // The thread's task runs first and makes the workers' cache; the process worker started after.
    expect(used(first)).toEqual([false, false, true]);
    const files = readdirSync(cache).sort();
    // One per engine: the workers share one (same Node, same flags).
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^engine-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+-\w+-[0-9a-f]{8}\.v8$/);
    expect(files[1]).toMatch(/^worker-engine-[0-9a-f]{16}-/);
    expect(first.main?.file).toBe(join(cache, files[0] as string));

    expect(used(await runProgram(env))).toEqual([true, true, true]);

    for (const file of files) writeFileSync(join(cache, file), "not a code cache");
    // An earlier build's cache, removed when this build's is made again.
    const earlier = (files[0] as string).replace(/^engine-[0-9a-f]{16}/, "engine-0123456789abcdef");
    writeFileSync(join(cache, earlier), "an earlier build's cache");
    expect(used(await runProgram(env))).toEqual([false, false, true]);
    expect(used(await runProgram(env))).toEqual([true, true, true]);
    expect(readdirSync(cache).sort()).toEqual(files);
  }, 300_000);

  it("is neither read nor made with FLYTE_TS_COMPILE_CACHE=0", async () => {
    const env = {
      FLYTE_TS_HOME: mkdtempSync(join(tmpdir(), "flyte-ts-engine-cache-")),
      FLYTE_TS_COMPILE_CACHE: "0",
    };
    const report = await runProgram(env);
    expect(report.main).toEqual({ used: false, file: null });
    expect(report.thread).toEqual({ used: false, file: null });
    expect(report.process).toEqual({ used: false, file: null });
  }, 300_000);
});

describe("two copies of flyte-ts in one process", () => {
  it("each load their own engine", async () => {
    // A second copy of the built package (its dependencies found in this checkout's node_modules).
    const copies = join(repoRoot, "node_modules", ".cache");
    mkdirSync(copies, { recursive: true });
    const copy = mkdtempSync(join(copies, "flyte-ts-copy-"));
    cpSync(join(repoRoot, "dist"), join(copy, "dist"), { recursive: true });
    const program = [
      `const a = await import(${JSON.stringify(pathToFileURL(join(repoRoot, "dist", "index.js")).href)});`,
      `const b = await import(${JSON.stringify(pathToFileURL(join(copy, "dist", "index.js")).href)});`,
      "console.log(JSON.stringify({ same: a.TaskEnvironment === b.TaskEnvironment, versions: [a.version, b.version] }));",
    ].join("\n");
    const r = await runNode(["--input-type=module", "-e", program], {}, 120_000);
    rmSync(copy, { recursive: true, force: true });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout.trim());
    expect(out.same).toBe(false);
    expect(out.versions[0]).toBe(out.versions[1]);
  }, 300_000);
});
