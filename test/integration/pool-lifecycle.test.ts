// Whole processes: a program that used pools exits by itself, and Ctrl-C during `flyte-ts run`
// cancels the run, kills its worker processes and exits non-zero.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, ensureBuilt, repoRoot, runNode } from "../fixtures/cli/cli-process.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-lifecycle-"));
  await ensureBuilt();
});

afterAll(() => rm(home, { recursive: true, force: true }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("pool lifecycle", () => {
  it("lets a program that ran tasks on warm pools exit on its own", async () => {
    const r = await runNode(["--import", "tsx", "test/fixtures/pools/exit-program.ts"], {
      FLYTE_TS_HOME: home,
    });
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ code: 0, stdout: "[1,1,16]\n" });
  });

  it("refuses to start a run again in a worker that imports a module which runs at top level", async () => {
    const r = await runNode(["--import", "tsx", "test/fixtures/pools/top-level-run.ts"], {
      FLYTE_TS_HOME: home,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /could not be loaded in a worker: importing .*top-level-run\.ts started a run/,
    );
    expect(r.stderr).toMatch(/the module starts a run at its top level/);
    expect(r.stderr).toMatch(/flyte\.main\(import\.meta/);
    // The tasks are at the top level; the old hint to move them there was wrong.
    expect(r.stderr).not.toMatch(/Tasks must be defined at the top level/);
  });

  it("cancels the run on Ctrl-C, kills its worker process and exits non-zero", async () => {
    const pidFile = join(home, "worker.pid");
    const cli = spawn(
      process.execPath,
      [binPath, "run", "test/fixtures/pools/failures.ts", "writesPidInProcess", "--path", pidFile],
      { cwd: repoRoot, env: { ...process.env, FLYTE_TS_HOME: home }, stdio: "pipe" },
    );
    const exited = new Promise<number | null>((resolve) => cli.on("exit", resolve));
    let stderr = "";
    cli.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // Wait for the condition (the task body is running), bounded by the test's own timeout.
    while (!existsSync(pidFile) || (await readFile(pidFile, "utf8")) === "") await delay(20);
    const workerPid = Number(await readFile(pidFile, "utf8"));
    expect(isAlive(workerPid)).toBe(true);
    cli.kill("SIGINT");
    const code = await exited;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/cancelled/i);
    expect(isAlive(workerPid)).toBe(false);
  });
});
