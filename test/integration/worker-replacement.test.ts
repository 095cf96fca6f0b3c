// A worker that dies is replaced at once, and the replacement loads the task before the retry's
// backoff ends; a pool that has lost a worker keeps a warm spare, so a later death's retry runs
// on a worker that had loaded the task already. (Speed is measured in bench/worker-replacement.ts.)
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/record/events.js";
import { crashOnceAfterLoads, loadCount, twoDeaths } from "../fixtures/pools/replacement.js";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-replacement-"));
  process.env.FLYTE_TS_TEST_LOADS = join(home, "loads.txt");
});
afterAll(() => {
  delete process.env.FLYTE_TS_TEST_LOADS;
  return flyte.shutdown();
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

/** A run whose deaths are recorded (by action: the time its first attempt failed). */
function runWith(clock: ManualClock) {
  const deaths: number[] = [];
  const onEvent = (event: RunEvent) => {
    if (event.type === "attempt-finished" && event.attempt === 0 && event.error)
      deaths.push(Date.now());
  };
  return {
    deaths,
    context: flyte.withRunContext({ cacheDir: home, clock, echoLogs: false, onEvent }),
  };
}

describe("a pool whose worker dies", () => {
  it("starts a replacement at once, which loads the task before the retry's backoff ends", async () => {
    const clock = new ManualClock();
    const { deaths, context } = runWith(clock);
    const running = context.run(crashOnceAfterLoads, 1);
    expect(await clock.nextTimer()).toBe(500);
    // The backoff has not ended (the clock stands still), yet a second worker has loaded the task.
    await until(() => loadCount() === 2);
    clock.advance(500);
    const out = await (await running).outputs();
    expect(loadCount()).toBe(2);
    expect(out.loadedAt).toBeLessThanOrEqual(Date.now());
    expect(deaths).toHaveLength(1);
  });

  it("keeps a warm spare after a death: a later death's retry runs on a worker loaded before it", async () => {
    const clock = new ManualClock();
    const { deaths, context } = runWith(clock);
    const running = context.run(twoDeaths);
    expect(await clock.nextTimer()).toBe(500);
    await until(() => loadCount() === 2);
    clock.advance(500);
    // The second call's first attempt kills its worker only once a third worker (the spare) has
    // loaded the task; its retry must then find that spare ready.
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    const [, second] = await (await running).outputs();
    expect(deaths).toHaveLength(2);
    expect(second?.loadedAt).toBeLessThan(deaths[1] as number);
  });
});
