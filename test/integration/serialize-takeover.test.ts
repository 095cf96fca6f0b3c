// `serialize: true` when the leader dies or fails: a leader killed on this host is seen dead at
// once (its pid and start time), long before its lease would expire; within a run, a leader that
// fails hands the call to the next waiter instead of failing them all.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot, runNode } from "../fixtures/cli/cli-process.js";

const newDir = () => mkdtempSync(join(tmpdir(), "flyte-ts-takeover-"));
const fixture = join("test/fixtures/processes", "lease-crash.ts");

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe("a serialized call whose leader process is killed", () => {
  beforeAll(ensureBuilt);

  it("is taken over by a waiter on the same host without waiting for the 30 s lease", async () => {
    const home = newDir();
    const dir = newDir();
    const log = () => {
      try {
        return readFileSync(join(dir, "executions.log"), "utf8").trim().split("\n");
      } catch {
        return [];
      }
    };
    const leader = spawn(
      process.execPath,
      ["--import", "tsx", fixture, home, dir, "leader", "30000"],
      { cwd: repoRoot, stdio: "ignore" },
    );
    await until(() => log().includes("leader"));
    // The hang guard (20 s) is shorter than the lease: finishing at all means the death was seen.
    const waiting = runNode(["--import", "tsx", fixture, home, dir, "waiter", "30000"], {}, 20_000);
    leader.kill("SIGKILL");
    const waiter = await waiting;
    expect(waiter.stdout).toBe('{"x":1,"by":"waiter"}\n');
    expect(log()).toEqual(["leader", "waiter"]);
  });
});
