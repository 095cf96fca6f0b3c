// Every program in examples/ runs and prints what its comments promise.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { ensureBuilt, runCli, runNode } from "../fixtures/cli/cli-process.js";

let home: string;
const cli = (...args: string[]) => runCli(args, { FLYTE_TS_HOME: home });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-examples-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe.concurrent("examples", () => {
  test("quickstart sums the squares below n, with n from a flag or its default", async ({
    expect,
  }) => {
    const [withFlag, withDefault, small] = await Promise.all([
      cli("run", "examples/quickstart.ts", "main", "--n", "10"),
      cli("run", "examples/quickstart.ts", "main"),
      cli("run", "examples/quickstart.ts", "main", "--n", "4"),
    ]);
    expect(withFlag).toMatchObject({ code: 0, stdout: "285\n" });
    expect(withFlag.stderr).toMatch(/^✔ run \S+ succeeded in .* · 11 actions: /m);
    expect(withDefault.stdout).toBe("285\n");
    expect(small.stdout).toBe("14\n");
  });

  test("workers runs tasks on a warm thread pool, a child process and inline, nested", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/workers.ts", "main", "--texts", '["a b", "c d e", "f"]');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      words: [2, 3, 1],
      loads: 1,
      processLabel: "tokenizer-process",
    });
  });

  test("quickstart runs as a program through flyte.main", async ({ expect }) => {
    const r = await runNode(["--import", "tsx", "examples/quickstart.ts"], { FLYTE_TS_HOME: home });
    expect(r).toEqual({ code: 0, stdout: "285\n", stderr: "" });
  });

  test("retries retries the flaky task, gives up on NonRecoverableError, and times out slow", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/retries.ts", "main");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "flaky: succeeded on attempt 2",
      "validate: gave up without retrying: value must be 0 or more, got -1 (attempt 0)",
      "slow: timed out",
      "parse: bad input (SyntaxError)",
    ]);
  });

  test("traces replays traced calls on the retry, so each helper ran once per input", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/traces.ts", "summarize", "--texts", '["a b", "c d e"]');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      attempt: 1,
      words: ["a", "b", "c", "d", "e"],
      dimensions: [3, 5],
      embedCalls: { "a b": 1, "c d e": 1 },
      tokenizeCalls: 1,
    });
  });

  test("telemetry prints a span for the run, each action, attempt and traced call", async ({
    expect,
  }) => {
    const r = await runNode(["--import", "tsx", "examples/telemetry.ts"], { FLYTE_TS_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("13");
    const names = [...r.stdout.matchAll(/^ {2}name: '([^']+)'/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual([
      "flyte.action telemetry.main",
      "flyte.action telemetry.square",
      "flyte.action telemetry.square",
      "flyte.attempt 0",
      "flyte.attempt 0",
      "flyte.run telemetry.main",
      "flyte.trace lookUp",
    ]);
    expect(r.stdout).toContain("'flyte.cache_hit': true");
  });

  test("report writes the training tabs into the task's folder and the run report", async ({
    expect,
  }) => {
    const r = await cli(
      "run",
      "examples/report.ts",
      "train",
      "--epochs",
      "4",
      "--name",
      "report-demo",
      "--quiet",
    );
    expect(r).toEqual({ code: 0, stdout: "0.25\n", stderr: "" });
    const dir = join(home, "runs", "report-demo");
    const page = await readFile(join(dir, "a0", "report.html"), "utf8");
    expect(page).toContain('<a href="#tab-loss">loss</a>');
    expect(page).toContain("<li>epoch 3: 0.25</li>");
    expect(await readFile(join(dir, "report.html"), "utf8")).toContain('id="report-a0"');
    const logs = await cli("runs", "logs", "report-demo", "a0");
    expect(logs.stdout.trim().split("\n")).toEqual([
      "epoch 0: loss 1",
      "epoch 1: loss 0.5",
      "epoch 2: loss 0.333",
      "epoch 3: loss 0.25",
    ]);
  });

  test("caching runs a task once per distinct file content and lists the entry", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/caching.ts", "main", "--quiet");
    expect(r).toEqual({ code: 0, stdout: "lines: 3 (ran 1 of 2 calls)\n", stderr: "" });
    const ls = await cli("cache", "ls", "--json");
    expect(
      JSON.parse(ls.stdout).some((e: { task: string }) => e.task === "caching.countLines"),
    ).toBe(true);
  });

  test("map keeps input order and puts each failure in its place", async ({ expect }) => {
    const r = await cli("run", "examples/map.ts", "main", "--count", "5");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "item 0: 0",
      "item 1: 10",
      "item 2: 20",
      "item 3: failed with RangeError: item 3 is out of range",
      "item 4: 40",
      "sum of items 0-2: 30",
    ]);
  });
});

// Run after the concurrent ones, so as not to add to their burst of processes on a small machine.
describe("examples, one at a time", () => {
  test("checkpoints lets the retry of a crashed training run go on from its last epoch", async ({
    expect,
  }) => {
    const r = await cli(
      "run",
      "examples/checkpoints.ts",
      "train",
      "--epochs",
      "6",
      "--name",
      "checkpoints-demo",
      "--quiet",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      epochs: 6,
      loss: 0.167,
      attempts: [
        { attempt: 0, from: 0 },
        { attempt: 1, from: 3 },
      ],
    });
    const shown = await cli("runs", "show", "checkpoints-demo", "a0");
    expect(shown.stdout).toMatch(/^attempt 1: .* · from checkpoint \(\d+ B\)$/m);
  });

  test("dirs runs a task on a directory again only when a file under it changes", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/dirs.ts", "main", "--quiet");
    expect(r).toEqual({ code: 0, stdout: "words: 5, 5, 6 (ran 2 of 3 calls)\n", stderr: "" });
  });

  test("porting runs the seed's spellings: GiB, env, Backoff, deadline, custom context, map over a partial", async ({
    expect,
  }) => {
    const r = await cli("run", "examples/porting.ts", "main");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      "2cm (eu)",
      "4cm (eu)",
      "6cm (eu)",
      "succeeded on attempt 2",
    ]);
  });
});
