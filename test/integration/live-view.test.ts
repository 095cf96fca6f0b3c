// `flyte-ts run`'s progress output when it is not a terminal, --json, --quiet, --logs, the end
// summary, and `flyte-ts runs logs`, through the real bin in child processes.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { ensureBuilt, runCli } from "../fixtures/cli/cli-process.js";

const tasks = "test/fixtures/report/tasks.ts";
const homes: string[] = [];

/**
 * A fresh .flyte folder for one test (tests here run concurrently): the SQLite cache persists
 * between runs in one folder, and each test expects its own run's misses and hits.
 */
async function session() {
  const home = await mkdtemp(join(tmpdir(), "flyte-ts-live-"));
  homes.push(home);
  return { home, cli: (...args: string[]) => runCli(args, { FLYTE_TS_HOME: home }) };
}

beforeAll(async () => {
  await ensureBuilt();
});

afterAll(async () => {
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

describe.concurrent("flyte-ts run's progress", () => {
  test("prints one line per event when stderr is not a terminal, then a summary with the report's path", async ({
    expect,
  }) => {
    const { home, cli } = await session();
    const r = await cli("run", tasks, "main", "--name", "plain");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("91\n");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\[\s*\d+ms\] run plain started: report-fixture\.main$/);
    // Each action is labelled by its leading inputs.
    expect(lines).toContainEqual(expect.stringMatching(/^\[.*\] ▶ square\(x=\d+\) \w+( on \S+)?$/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^\[.*\] ⚠ flaky \w+ attempt 0 failed: RuntimeUserError: flaky failure 1$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^\[.*\] ▶ flaky \w+ retry 2( on \S+)?$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[.*\] ✔ flaky \w+ {2}\S+ · 3 attempts$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[.*\] ◆ square\(x=\d+\) \w+ {2}\S+ · cache hit$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[.*\] ✘ broken \w+ {2}\S+ · broken on purpose$/),
    );
    const report = join(home, "runs", "plain", "report.html");
    expect(lines.at(-1)).toMatch(
      /^✔ run plain succeeded in \S+ · 13 actions: 11 done · 1 cached · 1 failed · cache-hit rate 7\.7% · 1 retried · report: /,
    );
    expect(lines.at(-1)?.endsWith(`report: ${report}`)).toBe(true);
    expect(existsSync(report)).toBe(true);
    expect(r.stderr + r.stdout).not.toContain("squaring");
  });

  test("--logs shows what tasks print, prefixed by task and action", async ({ expect }) => {
    const { cli } = await session();
    const r = await cli("run", tasks, "main", "--name", "logged", "--logs");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("91\n");
    expect(r.stderr).toMatch(/^\[square \w+\] squaring 6$/m);
    expect(r.stderr).toMatch(/^\[flaky \w+\] flaky call 3$/m);
    expect(r.stderr).toMatch(/^\[main a0\] broken failed as expected$/m);
  });

  test("--json prints every event as one JSON object per line, then the outputs", async ({
    expect,
  }) => {
    const { cli } = await session();
    const r = await cli("run", tasks, "main", "--name", "json", "--json", "--logs");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const events = r.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({
      type: "run-started",
      run: "json",
      task: "report-fixture.main",
    });
    expect(events.at(-2)).toMatchObject({ type: "run-finished", status: "succeeded" });
    expect(events.at(-1)).toEqual({ type: "outputs", value: 91 });
    expect(events.filter((e) => e.type === "attempt-started")).toHaveLength(14);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "log",
        action: "a0",
        stream: "stdout",
        text: "broken failed as expected\n",
      }),
    );
  });

  test("--quiet prints only the outputs", async ({ expect }) => {
    const { cli } = await session();
    const r = await cli("run", tasks, "main", "--name", "quiet", "--quiet");
    expect(r).toEqual({ code: 0, stdout: "91\n", stderr: "" });
  });

  test("ends a failed run with its summary, then the error", async ({ expect }) => {
    const { cli } = await session();
    const r = await cli("run", tasks, "broken", "--name", "failed");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^✘ run failed failed in \S+ · 1 action: 1 failed · cache-hit rate 0% · report: .*report\.html\nTask `report-fixture\.broken` failed/m,
    );
  });
});

describe("flyte-ts runs logs", () => {
  test("prints a run's output prefixed by action, or one action's output as written", async ({
    expect,
  }) => {
    const { cli } = await session();
    expect((await cli("run", tasks, "main", "--name", "for-logs", "--quiet")).code).toBe(0);
    const all = await cli("runs", "logs", "for-logs");
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(12);
    expect(lines).toContainEqual(expect.stringMatching(/^\[square \w+\] squaring 0$/));
    expect(lines.filter((l) => l.startsWith("[flaky "))).toHaveLength(3);
    const root = await cli("runs", "logs", "for-logs", "a0");
    expect(root).toEqual({ code: 0, stdout: "broken failed as expected\n", stderr: "" });
  });

  test("says which runs folder it looked in when the run does not exist", async ({ expect }) => {
    const { home, cli } = await session();
    const r = await cli("runs", "logs", "nope");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`No run \`nope\` in ${join(home, "runs")}`);
  });
});
