// Checkpoints survive what ends an attempt: a thrown error (retry), a maxRuntime kill (retry),
// and a SIGKILL of the whole controller process (resume), in every runtime.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { beforeAll, describe, expect, it } from "vitest";
import { inline, processes, thread, timed } from "../fixtures/checkpoints/training.js";
import { binPath, ensureBuilt, repoRoot, runNode } from "../fixtures/cli/cli-process.js";
import { storedRun } from "../fixtures/stored-run.js";

const newDir = () => mkdtempSync(join(tmpdir(), "flyte-ts-ckpt-"));
const fixture = join("test/fixtures/checkpoints/training.ts");
const lines = (file: string) => {
  try {
    return readFileSync(file, "utf8").trim().split("\n");
  } catch {
    return [];
  }
};

/** Resolves once `check()` holds; the test's own timeout is the hang guard. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe("checkpoints", () => {
  beforeAll(ensureBuilt);

  for (const [runtime, train] of [
    ["inline", inline],
    ["thread", thread],
    ["process", processes],
  ] as const) {
    it(`let a retry after a thrown error start at the last saved step (${runtime})`, async () => {
      const home = newDir();
      const log = join(newDir(), "train.log");
      const run = await flyte.withRunContext({ cacheDir: home }).run(train, 5, log, 3, 0);
      expect(await run.outputs()).toBe(5);
      expect(lines(log)).toEqual([
        "attempt 0 from 0",
        "step 0",
        "step 1",
        "step 2",
        "attempt 1 from 3",
        "step 3",
        "step 4",
      ]);
      const attempts = run.actions[0]?.attempts ?? [];
      expect(attempts.map((a) => a.checkpointBytes)).toEqual([undefined, 1]);
    }, 60_000);
  }

  it("let a retry after a maxRuntime kill start at the last saved step", async () => {
    const home = newDir();
    const log = join(newDir(), "train.log");
    const run = await flyte.withRunContext({ cacheDir: home }).run(timed, 4, log, 2);
    expect(await run.outputs()).toBe(4);
    expect(lines(log)).toEqual([
      "attempt 0 from 0",
      "step 0",
      "step 1",
      "hanging",
      "attempt 1 from 2",
      "step 2",
      "step 3",
    ]);
    expect(run.actions[0]?.attempts[0]?.error?.name).toBe("TaskTimeoutError");
  }, 60_000);

  for (const task of ["thread", "processes"]) {
    it(`resume a run whose controller was killed with SIGKILL at the last saved step (${task})`, async () => {
      const home = newDir();
      const log = join(newDir(), "train.log");
      const env = { ...process.env, FLYTE_TS_HOME: home, NO_COLOR: "1" };
      const args = [binPath, "run", "--quiet", "--name", "killed", fixture, task];
      const first = spawn(
        process.execPath,
        [...args, "--steps", "6", "--log", log, "--throw-at", "0", "--hang-at", "0"],
        { cwd: repoRoot, env: { ...env, CHECKPOINT_HANG: "4" }, stdio: "ignore" },
      );
      const exited = new Promise((resolve) => first.once("exit", (_c, signal) => resolve(signal)));
      await until(() => lines(log).includes("hanging"));
      first.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      expect(lines(log)).toEqual([
        "attempt 0 from 0",
        "step 0",
        "step 1",
        "step 2",
        "step 3",
        "hanging",
      ]);

      const resumed = await runNode(
        [binPath, "run", "--quiet", "--resume", "killed"],
        { FLYTE_TS_HOME: home },
        60_000,
      );
      expect(resumed.stderr).toBe("");
      expect(resumed.stdout).toBe("6\n");
      expect(lines(log).slice(6)).toEqual(["attempt 0 from 4", "step 4", "step 5"]);
      const run = storedRun(home, "killed");
      expect(run?.status).toBe("succeeded");
      expect(run?.actions[0]?.attempts.at(-1)?.checkpointBytes).toBe(1);
      const shown = await runNode([binPath, "runs", "show", "killed", run?.actions[0]?.id ?? ""], {
        FLYTE_TS_HOME: home,
      });
      expect(shown.stdout).toMatch(/from checkpoint \(1 B\)/);
    }, 120_000);
  }
});
