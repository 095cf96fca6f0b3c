// Several OS processes sharing one `.flyte` folder: concurrent writers, serialize across
// processes, and a run killed with SIGKILL then resumed.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { SqliteCacheStore } from "../../src/cache/sqlite-cache-store.js";
import { binPath, ensureBuilt, repoRoot, runNode } from "../fixtures/cli/cli-process.js";
import { storedRun } from "../fixtures/stored-run.js";

const newDir = () => mkdtempSync(join(tmpdir(), "flyte-ts-procs-"));
const fixture = (name: string) => join("test/fixtures/processes", name);

/** Resolves once `check()` holds; the test's own timeout is the hang guard. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe("several processes, one .flyte folder", () => {
  beforeAll(ensureBuilt);

  it("four processes writing 1,000 entries each lose no write and see no lock error", async () => {
    const home = newDir();
    const startAt = String(Date.now() + 1500);
    const results = await Promise.all(
      ["w0", "w1", "w2", "w3"].map((w) =>
        runNode(
          ["--import", "tsx", fixture("cache-writer.ts"), home, w, "1000", startAt],
          {},
          120_000,
        ),
      ),
    );
    for (const r of results) {
      expect(r.stderr).not.toMatch(/locked|BUSY/i);
      expect(r.stdout).toBe("done\n");
    }
    const db = new Database(join(home, "cache.db"), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM entries").get()).toEqual({ n: 4000 });
    db.close();
  });

  it("runs a serialize: true call once across two OS processes; both get the leader's value", async () => {
    const home = newDir();
    const dir = newDir();
    const [a, b] = await Promise.all([
      runNode(["--import", "tsx", fixture("serialized.ts"), home, dir], {}, 60_000),
      runNode(["--import", "tsx", fixture("serialized.ts"), home, dir], {}, 60_000),
    ]);
    expect(a?.stderr).toBe("");
    expect(readFileSync(join(dir, "executions.log"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(a?.stdout ?? "")).toEqual(JSON.parse(b?.stdout ?? ""));
  });

  it("lets a waiter take over when the leader process is killed: its lease expires", async () => {
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
      ["--import", "tsx", fixture("lease-crash.ts"), home, dir, "leader"],
      {
        cwd: repoRoot,
        stdio: "ignore",
      },
    );
    await until(() => log().includes("leader"));
    const waiting = runNode(
      ["--import", "tsx", fixture("lease-crash.ts"), home, dir, "waiter"],
      {},
      60_000,
    );
    leader.kill("SIGKILL");
    const waiter = await waiting;
    expect(waiter.stdout).toBe('{"x":1,"by":"waiter"}\n');
    expect(log()).toEqual(["leader", "waiter"]);
  });

  it("keeps every cached result its caller had when the process was killed, and no torn row", async () => {
    const home = newDir();
    const dir = newDir();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fixture("cache-crash.ts"), "fanout", home, dir],
      { cwd: repoRoot, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    const returned = () => {
      try {
        return readFileSync(join(dir, "returned.log"), "utf8").split("\n");
      } catch {
        return [];
      }
    };
    // Killed mid fan-out: results are being returned and written, 64 calls in flight.
    await until(() => returned().length > 3000);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const db = new Database(join(home, "cache.db"));
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const keys = (db.prepare("SELECT key FROM entries").all() as { key: string }[]).map(
      (r) => r.key,
    );
    db.close();
    // Every row that made it reads back verified, and holds a consistent value.
    const store = new SqliteCacheStore(home);
    const stored = keys.map((key) => store.getNow(key)?.value as { i: number; square: number });
    await store.close();
    expect(stored.filter((v) => v === undefined || v.square !== v.i * v.i)).toEqual([]);

    // Every result its caller had is a hit with its own value: no body runs again.
    const verified = await runNode(
      ["--import", "tsx", fixture("cache-crash.ts"), "verify", home, dir],
      {},
      120_000,
    );
    expect(verified.stderr).toBe("");
    const { items, outputs, executed } = JSON.parse(verified.stdout) as {
      items: number[];
      outputs: unknown[];
      executed: number[];
    };
    expect(items.length).toBeGreaterThan(3000);
    expect(keys.length).toBeGreaterThanOrEqual(items.length);
    expect(outputs).toEqual(items.map((i) => ({ i, square: i * i })));
    expect(executed).toEqual([]);
  }, 180_000);

  it("resumes a run killed with SIGKILL: finished steps and traces are not executed again", async () => {
    const home = newDir();
    const logFile = join(newDir(), "executions.log");
    const env = { ...process.env, FLYTE_TS_HOME: home, RESUME_LOG: logFile, NO_COLOR: "1" };
    const args = [binPath, "run", "--name", "killed", fixture("resumable.ts"), "main", "--n", "5"];
    const first = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...env, RESUME_HANG: "3" },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => first.once("exit", (_code, signal) => resolve(signal)));
    // The three finished steps are in the run store (written in batches) before the kill.
    await until(() => {
      try {
        const run = storedRun(home, "killed");
        return (
          run?.actions.filter((a) => a.task.endsWith(".step") && a.status === "succeeded")
            .length === 3
        );
      } catch {
        return false;
      }
    });
    first.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const log = () => readFileSync(logFile, "utf8").trim().split("\n");
    expect(log()).toEqual(["seed", "step 0", "step 1", "step 2", "hanging"]);

    const resumed = await runNode(
      [
        binPath,
        "run",
        "--quiet",
        "--resume",
        "killed",
        fixture("resumable.ts"),
        "main",
        "--n",
        "5",
      ],
      {
        FLYTE_TS_HOME: home,
        RESUME_LOG: logFile,
      },
    );
    expect(resumed.stderr).toBe("");
    expect(resumed.stdout).toBe("1100\n");
    expect(log()).toEqual(["seed", "step 0", "step 1", "step 2", "hanging", "step 3", "step 4"]);
    const run = storedRun(home, "killed");
    expect(run?.status).toBe("succeeded");
    // Replayed from the killed run's record: resumed, not cache hits.
    expect(run?.actions.filter((a) => a.resumed)).toHaveLength(3);
    expect(run?.actions.filter((a) => a.cacheHit)).toHaveLength(0);
  });
});
