// Warm workers across runs: the workers of an environment without a ReusePolicy outlive their
// run for a short idle time, so the next run in the process takes them; they stop after it, on
// shutdown, and never keep the process alive.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as flyte from "flyte-ts";
import { createEngine } from "flyte-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/run/engine.js";
import { ensureBuilt, runNode } from "../fixtures/cli/cli-process.js";
import { type Where, whereFromInline, whereProcess, whereThread } from "../fixtures/pools/warm.js";

let home: string;
const engines: Engine[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-warm-"));
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown()));
  await rm(home, { recursive: true, force: true });
});

function engineWith(warmPoolIdleMs: number): Engine {
  const engine = createEngine({ warmPoolIdleMs });
  engines.push(engine);
  return engine;
}

async function runOn(
  engine: Engine,
  task: typeof whereThread,
  name: string,
  options: flyte.RunOptions = {},
): Promise<{ where: Where; lane: string | undefined }> {
  const run = await new flyte.RunContext({ cacheDir: home, ...options }, engine).run(task, name);
  return { where: await run.outputs(), lane: run.actions[0]?.attempts[0]?.lane };
}

setFlagsFromString("--expose-gc");
/** A full garbage collection (a fresh context has `gc` once the flag is set). */
const collectGarbage = runInNewContext("gc") as () => void;

/** Resolves once `condition` holds; the test's timeout is the hang guard. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(10);
}

describe.each([
  ["thread", whereThread, (w: Where) => w.threadId],
  ["process", whereProcess, (w: Where) => w.pid],
] as const)("warm %s workers across runs", (kind, task, workerOf) => {
  it("runs a second run on the worker the first run left warm", async () => {
    const engine = engineWith(60_000);
    const first = await runOn(engine, task, "HOME");
    expect(engine.pools.warmSize()).toBe(1);
    const second = await runOn(engine, task, "HOME");
    expect(workerOf(second.where)).toBe(workerOf(first.where));
    expect(second.lane).toBe(first.lane);
    expect(second.lane).toMatch(/^warm-(thread|process)\/(thread|process)-\d+$/);
  });

  it("keeps no finished run alive while the workers it started stay warm", async () => {
    const engine = engineWith(60_000);
    // The worker starts as an inline body calls the task, inside the run. The run's record of
    // an action, which its controller and run record hold; the test keeps nothing else of it.
    const runOnce = async () => {
      const run = await new flyte.RunContext({ cacheDir: home }, engine).run(
        whereFromInline,
        kind,
        "HOME",
      );
      return new WeakRef(run.actions[0] as object);
    };
    const action = await runOnce();
    expect(engine.pools.warmSize()).toBe(1);
    // A few turns for the run's last timers (its rows' flush); then nothing may hold it.
    const deadline = Date.now() + 10_000;
    while (action.deref() !== undefined && Date.now() < deadline) {
      await delay(50);
      collectGarbage();
    }
    expect(action.deref(), "the finished run is still reachable").toBeUndefined();
    expect(engine.pools.warmSize()).toBe(1);
  });

  it("stops the warm workers after the idle time; the next run starts new ones", async () => {
    const engine = engineWith(50);
    const first = await runOn(engine, task, "HOME");
    await until(() => engine.pools.warmSize() === 0);
    const second = await runOn(engine, task, "HOME");
    expect(workerOf(second.where)).not.toBe(workerOf(first.where));
  });

  it("stops the warm workers on shutdown", async () => {
    const engine = engineWith(60_000);
    const first = await runOn(engine, task, "HOME");
    expect(engine.pools.warmSize()).toBe(1);
    await engine.shutdown();
    expect(engine.pools.warmSize()).toBe(0);
    const second = await runOn(engine, task, "HOME");
    expect(workerOf(second.where)).not.toBe(workerOf(first.where));
  });

  it("gives a run with other environment variables workers of its own", async () => {
    const engine = engineWith(60_000);
    const one = await runOn(engine, task, "WARM_VAR", { envVars: { WARM_VAR: "one" } });
    const two = await runOn(engine, task, "WARM_VAR", { envVars: { WARM_VAR: "two" } });
    const again = await runOn(engine, task, "WARM_VAR", { envVars: { WARM_VAR: "one" } });
    expect([one.where.value, two.where.value, again.where.value]).toEqual(["one", "two", "one"]);
    expect(workerOf(two.where)).not.toBe(workerOf(one.where));
    expect(workerOf(again.where)).toBe(workerOf(one.where));
  });

  it("gives a run after a change to process.env workers that see it", async () => {
    const engine = engineWith(60_000);
    try {
      process.env.WARM_HOST_VAR = "before";
      const before = await runOn(engine, task, "WARM_HOST_VAR");
      process.env.WARM_HOST_VAR = "after";
      const after = await runOn(engine, task, "WARM_HOST_VAR");
      expect([before.where.value, after.where.value]).toEqual(["before", "after"]);
      expect(workerOf(after.where)).not.toBe(workerOf(before.where));
    } finally {
      delete process.env.WARM_HOST_VAR;
    }
  });
});

describe("warm workers and the process", () => {
  it("does not keep a program alive that ends with workers warm", async () => {
    await ensureBuilt();
    // Kept warm for ten minutes: the run's hang guard (30 s) fails the test if they held it.
    const r = await runNode(["--import", "tsx", "test/fixtures/pools/warm-exit-program.ts"], {
      FLYTE_TS_HOME: home,
    });
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toEqual({ sameThread: true, warm: 2, inChild: true });
  });
});
