// The run store: every run in runs.db, and resume replaying what a failed run finished.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import * as flyte from "flyte-ts";
import { describe, expect, it, vi } from "vitest";
import { storedRun } from "../../fixtures/stored-run.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-runstore-"));
const env = new flyte.TaskEnvironment({ name: "resume", runtime: "inline" });

const executed: string[] = [];
let failAt = -1;
const step = env.task(async function step(i: number) {
  executed.push(`step ${i}`);
  if (i === failAt) throw new Error(`step ${i} failed`);
  return { i, tenfold: BigInt(i) * 10n };
});
const lookup = flyte.trace(async function lookup(name: string) {
  executed.push(`lookup ${name}`);
  return new Map([[name, name.length]]);
});
const main = env.task(async function main(n: number) {
  const sizes = await lookup("abc");
  const results = await Promise.all(Array.from({ length: n }, (_, i) => step(i)));
  return { size: sizes.get("abc"), total: results.reduce((sum, r) => sum + r.tenfold, 0n) };
});

describe("the run store", () => {
  it("resumes a failed run: finished children and traced calls replay, the rest runs", async () => {
    const cacheDir = newHome();
    executed.length = 0;
    failAt = 3;
    await expect(flyte.withRunContext({ cacheDir, name: "flaky" }).run(main, 5)).rejects.toThrow(
      /step 3 failed/,
    );
    expect(storedRun(cacheDir, "flaky")?.status).toBe("failed");
    executed.length = 0;
    failAt = -1;
    const run = await flyte.withRunContext({ cacheDir, resume: "flaky" }).run(main, 5);
    expect(await run.outputs()).toEqual({ size: 3, total: 100n });
    expect(executed).toEqual(["step 3"]);
    expect(run.name).toBe("flaky");
    const stored = storedRun(cacheDir, "flaky");
    expect(stored?.status).toBe("succeeded");
    // Replayed steps are resumed, not cache hits (these tasks have no cache).
    expect(stored?.actions.filter((a) => a.resumed)).toHaveLength(4);
    expect(stored?.actions.filter((a) => a.cacheHit)).toHaveLength(0);
  });

  it("refuses to resume a run it does not have, and a resume under another name", async () => {
    const cacheDir = newHome();
    await expect(flyte.withRunContext({ cacheDir, resume: "ghost" }).run(main, 1)).rejects.toThrow(
      /no run "ghost" to resume.*flyte-ts runs ls/,
    );
    expect(() => flyte.withRunContext({ resume: "a", name: "b" })).toThrow(/keeps its name/);
  });

  it("records a 2,000-child fan-out completely", async () => {
    const cacheDir = newHome();
    executed.length = 0;
    const run = await flyte.withRunContext({ cacheDir, name: "wide" }).run(main, 2_000);
    expect(storedRun(cacheDir, "wide")?.actions).toHaveLength(run.actions.length);
    const db = new Database(join(cacheDir, "runs.db"), { readonly: true });
    const events = db.prepare("SELECT count(*) AS n FROM events WHERE run = 'wide'").get();
    // The trace and the run's start and end: actions and attempts are in their own tables.
    expect(events).toEqual({ n: 3 });
    const actions = db.prepare("SELECT count(*) AS n FROM actions WHERE run = 'wide'").get();
    expect(actions).toEqual({ n: 2_001 });
    db.close();
  });

  it("leaves a runs.db from a newer schema alone: one warning, and the run goes on", async () => {
    const cacheDir = newHome();
    const db = new Database(join(cacheDir, "runs.db"));
    db.pragma("user_version = 42");
    db.close();
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const run = await flyte.withRunContext({ cacheDir }).run(main, 2);
    write.mockRestore();
    expect((await run.outputs()).total).toBe(10n);
    expect(lines.join("")).toMatch(/run store .*schema version 42/);
  });
});
