// SIGTERM and SIGHUP cancel a `flyte-ts run` like Ctrl-C (workers stopped, run recorded as
// cancelled, exit 128 + signal), and a process worker outlives a `kill -9`ed controller by about
// a second at most, even while its body spins.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, ensureBuilt, repoRoot } from "../fixtures/cli/cli-process.js";
import { storedRun } from "../fixtures/stored-run.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-signals-"));
  await ensureBuilt();
});
afterAll(() => rm(home, { recursive: true, force: true }));

/** Whether `pid` still runs: a zombie (dead, not yet reaped by its new parent) does not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Starts `flyte-ts run` of the spinning task; resolves once its body runs, with its worker's pid. */
async function startSpinning(
  name: string,
): Promise<{ cli: ChildProcess; workerPid: number; exited: Promise<number | null> }> {
  const pidFile = join(home, `${name}.pid`);
  const cli = spawn(
    process.execPath,
    [
      binPath,
      "run",
      "--quiet",
      "--name",
      name,
      "test/fixtures/pools/signals.ts",
      "spinsWritingPid",
      "--path",
      pidFile,
    ],
    { cwd: repoRoot, env: { ...process.env, FLYTE_TS_HOME: home }, stdio: "ignore" },
  );
  const exited = new Promise<number | null>((resolve) => cli.on("exit", (code) => resolve(code)));
  while (!existsSync(pidFile) || (await readFile(pidFile, "utf8")) === "") await delay(20);
  return { cli, workerPid: Number(await readFile(pidFile, "utf8")), exited };
}

async function gone(pid: number): Promise<void> {
  while (isAlive(pid)) await delay(20);
}

describe("signals to flyte-ts run", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)(
    "%s cancels the run like Ctrl-C: workers stopped, run recorded cancelled, exit %i",
    async (signal, status) => {
      const name = `by-${signal.toLowerCase()}`;
      const { cli, workerPid, exited } = await startSpinning(name);
      cli.kill(signal);
      expect(await exited).toBe(status);
      expect(isAlive(workerPid)).toBe(false);
      expect(storedRun(home, name)?.status).toBe("cancelled");
    },
  );

  it("leaves no process worker behind after kill -9 of the controller, even one stuck in a loop", async () => {
    const { cli, workerPid, exited } = await startSpinning("killed");
    cli.kill("SIGKILL");
    await exited;
    // The hang guard is the test's timeout; the watchdog acts within about a second.
    await gone(workerPid);
  });
});
