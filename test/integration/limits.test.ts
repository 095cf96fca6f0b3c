// Concurrency and rate limits in real runs on real thread pools: the run's maxActionConcurrency
// (parents awaiting children lend their slot, so nested fan-out finishes at any limit), an
// environment's maxConcurrency across runs, and a rateLimit on a manual clock — each wait shown
// as the phase `limited`, naming its limit, and bounded by maxQueuedTime.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/record/events.js";

const leaves = new flyte.TaskEnvironment({ name: "limits-leaves", runtime: "thread" });
const drivers = new flyte.TaskEnvironment({ name: "limits-drivers", runtime: "thread" });
const single = new flyte.TaskEnvironment({
  name: "limits-single",
  runtime: "thread",
  maxConcurrency: 1,
});
const api = new flyte.TaskEnvironment({
  name: "limits-api",
  runtime: "thread",
  rateLimit: { max: 2, per: "1s" },
});

const leaf = leaves.task(async function leaf(j: number) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return j;
});

const step = drivers.task(async function step(i: number) {
  const values = await Promise.all([0, 1, 2].map((j) => leaf(i * 10 + j)));
  return values.reduce((a, b) => a + b, 0);
});

const nested = drivers.task(async function nested(n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => step(i)));
});

const one = single.task(async function one(i: number) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return i;
});

const fanOne = drivers.task(async function fanOne(n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => one(i)));
});

const ping = api.task(async function ping(i: number) {
  return i;
});

const pings = drivers.task(async function pings(n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => ping(i)));
});

const patient = api.task(
  {
    rateLimit: { max: 1, per: "1m" },
    timeout: new flyte.Timeout({ maxQueuedTime: "5s" }),
  },
  async function patient(i: number) {
    return i;
  },
);

const twoPatient = drivers.task(async function twoPatient() {
  return Promise.allSettled([patient(1), patient(2)]).then((results) =>
    results.map((r) => (r.status === "fulfilled" ? r.value : String(r.reason?.message))),
  );
});

const leafOne = leaf.override({ maxConcurrency: 1 });

const overridden = drivers.task(async function overridden(n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => leafOne(i)));
});

let home: string;

// A hang guard, generous: these runs take seconds, but a loaded 2-core host stretches them.
const testMs = 240_000;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-limits-"));
});

afterAll(async () => {
  await flyte.shutdown();
  await rm(home, { recursive: true, force: true });
});

/** Collects a run's events and resolves waits on them as they arrive. */
function recorder() {
  const events: RunEvent[] = [];
  const waits: { test: () => boolean; resolve: () => void }[] = [];
  return {
    events,
    onEvent: (event: RunEvent) => {
      events.push(event);
      for (const w of waits.splice(0)) {
        if (w.test()) w.resolve();
        else waits.push(w);
      }
    },
    /** Resolves once `test` holds on the events so far. */
    until(test: (events: readonly RunEvent[]) => boolean): Promise<void> {
      if (test(events)) return Promise.resolve();
      return new Promise((resolve) => waits.push({ test: () => test(events), resolve }));
    },
  };
}

/** The most bodies of `task` running at once, from the run's events. */
function peakRunning(events: readonly RunEvent[], task: string): number {
  const ofTask = new Set(
    events.flatMap((e) => (e.type === "action-queued" && e.task === task ? [e.action] : [])),
  );
  const edges: [number, number][] = [];
  for (const e of events) {
    if (!ofTask.has((e as { action?: string }).action ?? "")) continue;
    if (e.type === "attempt-phase" && e.phase === "running") edges.push([e.at, 1]);
    if (e.type === "attempt-finished") edges.push([e.at, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

function limitedReasons(events: readonly RunEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === "attempt-phase" && e.phase === "limited" && e.reason !== undefined ? [e.reason] : [],
  );
}

describe("maxActionConcurrency", () => {
  it.each([1, 2])(
    "finishes a nested fan-out at a limit of %i: awaiting parents lend their slot",
    async (limit) => {
      const r = recorder();
      const run = await flyte
        .withRunContext({ cacheDir: home, maxActionConcurrency: limit, onEvent: r.onEvent })
        .run(nested, 3);
      expect(await run.outputs()).toEqual([3, 33, 63]);
      expect(peakRunning(r.events, "limits-leaves.leaf")).toBeLessThanOrEqual(limit);
      const reasons = limitedReasons(r.events);
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons[0]).toBe(
        `waiting for a slot of the run's maxActionConcurrency (${limit} action${limit === 1 ? "" : "s"} at once)`,
      );
      // The record keeps what held each limited attempt.
      expect(run.actions.some((a) => a.attempts.some((t) => t.limitedBy === reasons[0]))).toBe(
        true,
      );
    },
    testMs,
  );

  it(
    "rejects a limit below 1 or not an integer, naming the option",
    () => {
      expect(() => flyte.withRunContext({ maxActionConcurrency: 0 })).toThrow(
        /maxActionConcurrency.*integer of 1 or more, got 0/s,
      );
      expect(() => flyte.withRunContext({ maxActionConcurrency: 1.5 })).toThrow(
        flyte.errors.InvalidConfigError,
      );
    },
    testMs,
  );
});

describe("an environment's maxConcurrency", () => {
  it(
    "holds across two runs at once in the process",
    async () => {
      const a = recorder();
      const b = recorder();
      const [ra, rb] = await Promise.all([
        flyte.withRunContext({ cacheDir: home, onEvent: a.onEvent }).run(fanOne, 3),
        flyte.withRunContext({ cacheDir: home, onEvent: b.onEvent }).run(fanOne, 3),
      ]);
      expect(await ra.outputs()).toEqual([0, 1, 2]);
      expect(await rb.outputs()).toEqual([0, 1, 2]);
      const both = [...a.events, ...b.events];
      expect(peakRunning(both, "limits-single.one")).toBe(1);
      expect(limitedReasons(both)).toContain(
        "waiting for a slot of the maxConcurrency of environment `limits-single` (1 at once, across runs)",
      );
    },
    testMs,
  );

  it(
    "holds for an override's own limit, made in a worker",
    async () => {
      const r = recorder();
      const run = await flyte
        .withRunContext({ cacheDir: home, onEvent: r.onEvent })
        .run(overridden, 3);
      expect(await run.outputs()).toEqual([0, 1, 2]);
      expect(peakRunning(r.events, "limits-leaves.leaf")).toBe(1);
      expect(limitedReasons(r.events)).toContain(
        "waiting for a slot of the maxConcurrency of task `limits-leaves.leaf` (1 at once, across runs)",
      );
    },
    testMs,
  );
});

describe("rateLimit", () => {
  it(
    "starts at most max bodies per window, in order, as the injected clock moves",
    async () => {
      const clock = new ManualClock(1_000_000);
      const r = recorder();
      const pingPhase = (phase: string) =>
        r.events.filter(
          (e) =>
            e.type === "attempt-phase" &&
            e.phase === phase &&
            r.events.some(
              (q) =>
                q.type === "action-queued" && q.action === e.action && q.task === "limits-api.ping",
            ),
        ) as Extract<RunEvent, { type: "attempt-phase" }>[];
      const running = flyte
        .withRunContext({ cacheDir: home, clock, onEvent: r.onEvent })
        .run(pings, 5);
      // A start counts in the window when the body starts: wait for the bodies, then move time.
      await r.until(
        () => pingPhase("running").length === 2 && limitedReasons(r.events).length === 3,
      );
      expect(pingPhase("admitted")).toHaveLength(2);
      expect(limitedReasons(r.events)[0]).toBe(
        "waiting for the rateLimit of environment `limits-api` (2 per 1.0s)",
      );
      expect(await clock.nextTimer()).toBe(1000);
      clock.advance(999);
      expect(pingPhase("admitted")).toHaveLength(2);
      clock.advance(1);
      await r.until(() => pingPhase("running").length === 4);
      clock.advance(1000);
      const run = await running;
      expect(await run.outputs()).toEqual([0, 1, 2, 3, 4]);
      expect(pingPhase("running").map((e) => e.at - 1_000_000)).toEqual([0, 0, 1000, 1000, 2000]);
    },
    testMs,
  );

  it(
    "fails an attempt held past maxQueuedTime with an error naming the rate limit",
    async () => {
      const clock = new ManualClock(0);
      const r = recorder();
      const running = flyte
        .withRunContext({ cacheDir: home, clock, onEvent: r.onEvent })
        .run(twoPatient);
      await r.until(
        (events) =>
          limitedReasons(events).length === 1 &&
          events.some(
            (e) => e.type === "attempt-finished" && e.error === undefined && e.action !== "a0",
          ),
      );
      clock.advance(5000);
      const run = await running;
      const [first, second] = await run.outputs();
      expect(first).toBe(1);
      expect(second).toContain(
        "waited past its maxQueuedTime of 5.0s before its body started; it was still waiting for the rateLimit of task `limits-api.patient` (1 per 1m00s)",
      );
    },
    testMs,
  );
});
