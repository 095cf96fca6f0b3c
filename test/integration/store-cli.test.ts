// `flyte-ts cache …` and `flyte-ts runs …` over a real .flyte folder, through the real bin.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, test } from "vitest";
import { ensureBuilt, runCli } from "../fixtures/cli/cli-process.js";

const cached = "test/fixtures/cli/cached.ts";
let home: string;
const cli = (...args: string[]) => runCli(args, { FLYTE_TS_HOME: home });

describe("flyte-ts cache and runs", () => {
  beforeAll(async () => {
    await ensureBuilt();
    home = await mkdtemp(join(tmpdir(), "flyte-ts-store-cli-"));
    for (const [task, x, name] of [
      ["double", "2", "first"],
      ["double", "3", "second"],
      ["label", "4", "third"],
    ] as const) {
      const r = await cli("run", "--name", name, cached, task, "--x", x);
      if (r.code !== 0) throw new Error(r.stderr);
    }
  });

  test("lists entries, shows one by key prefix, and counts them", async ({ expect }) => {
    const ls = await cli("cache", "ls", "--json");
    const entries = JSON.parse(ls.stdout) as { key: string; task: string }[];
    expect(entries.map((e) => e.task).sort()).toEqual([
      "cached-cli.double",
      "cached-cli.double",
      "cached-cli.label",
    ]);
    const label = entries.find((e) => e.task === "cached-cli.label");
    const show = await cli("cache", "show", (label?.key ?? "").slice(0, 12));
    expect(show.stdout).toMatch(/output: {2}label-4/);
    const stats = await cli("cache", "stats");
    expect(stats.stdout).toMatch(/entries: 3 \(2 tasks\)/);
    expect((await cli("cache", "ls")).stdout).toMatch(/^KEY\s+TASK\s+SIZE\s+WRITTEN/);
  });

  test("lists runs and shows one run's actions", async ({ expect }) => {
    const ls = await cli("runs", "ls");
    expect(ls.stdout).toMatch(/first\s+cached-cli\.double\s+succeeded/);
    const show = await cli("runs", "show", "third");
    expect(show.stdout).toMatch(/^task: +cached-cli\.label$/m);
    expect(show.stdout).toMatch(/a0\s+-\s+cached-cli\.label\s+succeeded\s+1/);
    const missing = await cli("runs", "show", "nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no run "nope"/);
  });

  test("shows each action's label, inputs and output, and which inputs made a cache entry", async ({
    expect,
  }) => {
    const show = await cli("runs", "show", "second");
    expect(show.stdout).toMatch(/a0\s+-\s+cached-cli\.double\s+succeeded\s+1\s+.*double\(x=3\)/);
    const action = await cli("runs", "show", "second", "a0");
    expect(action.stdout).toMatch(/^action: {3}a0 {2}double\(x=3\)$/m);
    expect(action.stdout).toMatch(/^inputs:\n {2}x {2}3$/m);
    expect(action.stdout).toMatch(/^output: {3}\{doubled: 6\}$/m);
    const json = JSON.parse((await cli("runs", "show", "second", "a0", "--json")).stdout);
    expect(json).toMatchObject({
      inputValues: [3],
      outputValue: { doubled: 6 },
      label: "double(x=3)",
    });
    const missing = await cli("runs", "show", "second", "a9");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no action "a9".*Did you mean `a0`\?/);
    const ls = await cli("cache", "ls");
    expect(ls.stdout).toMatch(/^KEY\s+TASK\s+SIZE\s+WRITTEN\s+INPUTS$/m);
    expect(ls.stdout).toMatch(/cached-cli\.label\s+.*label\(x=4\)$/m);
    const entries = JSON.parse((await cli("cache", "ls", "--json")).stdout) as {
      key: string;
      task: string;
    }[];
    const label = entries.find((e) => e.task === "cached-cli.label");
    const entry = await cli("cache", "show", (label?.key ?? "").slice(0, 12));
    expect(entry.stdout).toMatch(/^made by: label\(x=4\), action a0 of run third$/m);
    expect(entry.stdout).toMatch(/^inputs:\n {2}x {2}4$/m);
  });

  test("clears one task's entries, then prunes to a size", async ({ expect }) => {
    expect((await cli("cache", "clear", "--task", "cached-cli.label")).stdout).toBe(
      "Removed 1 cache entry.\n",
    );
    expect((await cli("cache", "prune", "--older-than", "7d")).stdout).toBe(
      "Removed 0 cache entries.\n",
    );
    expect((await cli("cache", "prune", "--max-size", "0")).stdout).toBe(
      "Removed 2 cache entries.\n",
    );
    expect((await cli("cache", "stats")).stdout).toMatch(/entries: 0 .*\nobjects: 0/);
    const bad = await cli("cache", "prune", "--max-size", "lots");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected a size/);
  });
});
