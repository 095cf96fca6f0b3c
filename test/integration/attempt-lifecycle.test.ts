// An attempt's whole life on real pools: the wait for a worker (and a worker's start-up) is
// queue time, bounded by maxQueuedTime; maxRuntime counts from the body's start; the records,
// the live view's counts and the report's lanes say which attempts waited and which ran.

import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/record/events.js";
import { Progress } from "../../src/record/progress.js";
import { timelineData } from "../../src/record/report-timeline.js";
import type { RunRecordData } from "../../src/record/run-record.js";
import { fakeHostScheduler } from "../fixtures/gpu-lease.js";
import {
  allocatesAtOnce,
  bounded,
  crowd,
  fanOutComputes,
  fanOutWaits,
  saturate,
  sweep,
} from "../fixtures/pools/lifecycle.js";
import { instant } from "../fixtures/pools/slow-import.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-lifecycle-"));
});

afterAll(async () => {
  await flyte.shutdown();
  await rm(home, { recursive: true, force: true });
});

/** The most running intervals any one lane of the report's timeline holds at once. */
function mostRunningAtOnce(record: RunRecordData): Map<string, number> {
  const data = timelineData(record);
  const most = new Map<string, number>();
  data.lanes.forEach((lane, index) => {
    const edges: [number, number][] = [];
    for (const [l, , start, duration, kind, , , , wait] of data.bars) {
      if (l !== index || kind === "hit" || wait >= duration) continue;
      edges.push([start + wait, 1], [start + duration, -1]);
    }
    // Ends before starts at the same instant: one body ending as the next begins is not overlap.
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let peak = 0;
    for (const [, step] of edges) {
      now += step;
      peak = Math.max(peak, now);
    }
    most.set(lane.name, peak);
  });
  return most;
}

function recordOf(run: flyte.Run<unknown>, events: RunEvent[]): RunRecordData {
  const started = events.find((e) => e.type === "run-started");
  const finished = events.find((e) => e.type === "run-finished");
  return {
    name: run.name,
    task: "",
    status: "succeeded",
    startedAt: started?.at ?? 0,
    ...(finished ? { endedAt: finished.at } : {}),
    actions: [...run.actions],
  };
}

describe("an attempt's phases", () => {
  it("charges maxRuntime from the body's start, not the wait for a free worker", async () => {
    const events: RunEvent[] = [];
    const run = await flyte
      .withRunContext({ cacheDir: home, onEvent: (e) => events.push(e) })
      .run(saturate, 6);
    // Six 1 s bodies on two workers: the last two wait ~2 s, past their 2.5 s maxRuntime if the
    // wait counted.
    expect(await run.outputs()).toEqual([0, 1, 2, 3, 4, 5]);
    const leaves = run.actions.filter((a) => a.task === "lifecycle.sleeper");
    expect(leaves).toHaveLength(6);
    for (const { attempts } of leaves) {
      const [a] = attempts;
      expect(attempts).toHaveLength(1);
      expect(a?.lane).toMatch(/^lifecycle\/thread-\d+$/);
      expect(a?.threadId).toBeGreaterThan(0);
      expect(a?.startedAt).toBeLessThanOrEqual(a?.admittedAt ?? -1);
      expect(a?.admittedAt).toBeLessThanOrEqual(a?.placedAt ?? -1);
      expect(a?.placedAt).toBeLessThanOrEqual(a?.runningAt ?? -1);
      expect(a?.runningAt).toBeLessThanOrEqual(a?.endedAt ?? -1);
    }
    // Some waited for a worker, and no worker ever ran two bodies at once.
    const waits = leaves.map(({ attempts: [a] }) => (a?.runningAt ?? 0) - (a?.startedAt ?? 0));
    expect(Math.max(...waits)).toBeGreaterThan(900);
    const lanes = mostRunningAtOnce(recordOf(run, events));
    const workerLanes = [...lanes].filter(([name]) => name.startsWith("lifecycle/"));
    expect(workerLanes.length).toBeGreaterThanOrEqual(1);
    expect(workerLanes.length).toBeLessThanOrEqual(2);
    for (const [, peak] of workerLanes) expect(peak).toBe(1);
  });

  it("counts a slow module import as queue time: the first attempt succeeds", async () => {
    const run = await flyte.withRunContext({ cacheDir: home }).run(instant);
    expect(await run.outputs()).toBe(0);
    const [attempt] = run.actions[0]?.attempts ?? [];
    expect((attempt?.runningAt ?? 0) - (attempt?.placedAt ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it("fails an attempt that waits for a worker past its maxQueuedTime, saying so", async () => {
    const run = await flyte.withRunContext({ cacheDir: home }).run(crowd);
    const [blocked, queued] = (await run.outputs()) as string[];
    expect(blocked).toBe("blocked");
    expect(queued).toMatch(/waited past its maxQueuedTime of 500ms before its body started/);
    const action = run.actions.find((a) => a.task === "lifecycle-one.queued");
    expect(action?.error?.name).toBe("TaskTimeoutError");
    expect(action?.attempts[0]?.runningAt).toBeUndefined();
  });

  it("shows GPU trainings that wait for a device as waiting, one running bar per device", async () => {
    const scheduler = fakeHostScheduler("H100:2");
    const events: RunEvent[] = [];
    const progress = new Progress();
    let mostRunning = 0;
    const onEvent = (event: RunEvent) => {
      events.push(event);
      progress.observe(event);
      const counts = progress.counts();
      mostRunning = Math.max(mostRunning, counts.running - 1); // less the root
    };
    const run = await new flyte.RunContext({ cacheDir: home, onEvent }, { scheduler }).run(
      sweep,
      6,
    );
    const outputs = (await run.outputs()) as { device: string }[];
    expect(new Set(outputs.map((o) => o.device)).size).toBe(2);
    expect(mostRunning).toBeLessThanOrEqual(2);
    const lanes = mostRunningAtOnce(recordOf(run, events));
    expect([...lanes.keys()].filter((name) => name.startsWith("gpu")).sort()).toEqual([
      "gpu0",
      "gpu1",
    ]);
    expect(lanes.get("gpu0")).toBe(1);
    expect(lanes.get("gpu1")).toBe(1);
    const trainings = run.actions.filter((a) => a.task === "lifecycle-gpu.train");
    const ran = trainings.map(({ attempts: [a] }) => (a?.endedAt ?? 0) - (a?.runningAt ?? 0));
    // Each bar's running part is the body's 0.3 s, not its wait for a device.
    for (const ms of ran) expect(ms).toBeLessThan(2_000);
  });

  it("fails one huge allocation under a memory limit with OOMError, the host unharmed", async () => {
    expect(bounded.runtime).toBe("process");
    const error = await flyte
      .withRunContext({ cacheDir: home })
      .run(allocatesAtOnce)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.OOMError);
    expect((error as Error).message).toMatch(/out of memory \(heap limit 64 MiB\)/);
  });

  it("lets bodies that await share a worker, and gives CPU-bound bodies one worker each", async () => {
    /** The most intervals open at once. */
    const overlap = (spans: number[][]) => {
      const edges = spans.flatMap(([a, b]) => [
        [a as number, 1],
        [b as number, -1],
      ]);
      edges.sort(
        (x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number),
      );
      let now = 0;
      let peak = 0;
      for (const [, step] of edges) {
        now += step as number;
        peak = Math.max(peak, now);
      }
      return peak;
    };
    const context = flyte.withRunContext({ cacheDir: home });
    const waited = (await (await context.run(fanOutWaits, 20)).outputs()) as number[][];
    const workers = availableParallelism();
    expect(overlap(waited)).toBeGreaterThan(workers);
    const computed = (await (await context.run(fanOutComputes, 4)).outputs()) as number[][];
    expect(overlap(computed)).toBeLessThanOrEqual(workers);
  });
});
