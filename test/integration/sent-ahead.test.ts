// Attempts sent ahead to busy thread workers (sent-ahead.ts), on a real pool of two threads: each
// starts only as the body before it on its worker ends, the records say so, and attempts held
// behind a body that runs long, stops or crashes its worker are not stuck or lost.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/record/events.js";
import { behindCrash, behindLong, burst, heldTooLong } from "../fixtures/pools/ahead.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-ahead-"));
});

afterAll(async () => {
  await flyte.shutdown();
  await rm(home, { recursive: true, force: true });
});

type Phase = Extract<RunEvent, { type: "attempt-phase" }>;

/** The lanes each action was placed on, in order. */
function placements(events: RunEvent[]): Map<string, string[]> {
  const placed = new Map<string, string[]>();
  for (const event of events) {
    if (event.type !== "attempt-phase" || event.phase !== "placed") continue;
    const lanes = placed.get(event.action) ?? [];
    lanes.push((event as Phase).lane ?? "");
    placed.set(event.action, lanes);
  }
  return placed;
}

describe("attempts sent ahead to busy workers", () => {
  it("starts each only after the body before it on its worker has ended", async () => {
    const events: RunEvent[] = [];
    const run = await flyte
      .withRunContext({ cacheDir: home, onEvent: (e) => events.push(e) })
      .run(burst, 400);
    expect(await run.outputs()).toEqual(Array.from({ length: 400 }, (_, i) => i));
    const byLane = new Map<string, { placedAt: number; runningAt: number; endedAt: number }[]>();
    for (const action of run.actions) {
      if (action.parent === undefined) continue;
      const attempt = action.attempts.at(-1);
      if (attempt?.lane === undefined || attempt.runningAt === undefined) continue;
      const { placedAt = 0, runningAt, endedAt = Number.POSITIVE_INFINITY } = attempt;
      const lane = byLane.get(attempt.lane) ?? [];
      lane.push({ placedAt, runningAt, endedAt });
      byLane.set(attempt.lane, lane);
    }
    expect(byLane.size).toBe(2);
    let sentAhead = 0;
    for (const lane of byLane.values()) {
      // In the order they ran (the clock counts whole ms: one may start and end in the ms the next starts).
      lane.sort((a, b) => a.runningAt - b.runningAt || a.endedAt - b.endedAt);
      for (let i = 1; i < lane.length; i++) {
        const before = lane[i - 1] as (typeof lane)[number];
        const attempt = lane[i] as (typeof lane)[number];
        // One body at a time on a worker of concurrency 1, as the record tells it.
        expect(attempt.runningAt).toBeGreaterThanOrEqual(before.endedAt);
        if (attempt.placedAt < before.endedAt) sentAhead++;
      }
    }
    // Placed on its worker while the one before it still ran: it was sent ahead.
    expect(sentAhead).toBeGreaterThan(0);
  });

  it("calls attempts back to a free worker when the body they wait behind runs long", async () => {
    const flag = join(home, "long-done");
    const events: RunEvent[] = [];
    const run = await flyte
      .withRunContext({ cacheDir: home, onEvent: (e) => events.push(e) })
      .run(behindLong, flag, 40);
    // Had the ones held behind it waited, the long body would have run to its 20 s guard.
    expect(await run.outputs()).toBe("flag");
    const moved = [...placements(events).values()].filter((lanes) => new Set(lanes).size > 1);
    expect(moved.length).toBeGreaterThan(0);
  });

  it("stops an attempt held past its maxQueuedTime, and its worker goes on", async () => {
    const flags = [join(home, "held-a"), join(home, "held-b")];
    const events: RunEvent[] = [];
    const run = await flyte
      .withRunContext({ cacheDir: home, onEvent: (e) => events.push(e) })
      .run(heldTooLong, flags, 4);
    const out = (await run.outputs()) as { long: string[]; waited: unknown[]; after: number };
    expect(out.long).toEqual(["flag", "flag"]);
    expect(out.after).toBe(7);
    for (const waited of out.waited) expect(String(waited)).toMatch(/maxQueuedTime/);
    // They waited on a worker, sent ahead, not in the pool's queue.
    const impatient = run.actions.filter((a) => a.task === "ahead.impatient");
    expect(impatient.some((a) => a.attempts.some((t) => t.lane !== undefined))).toBe(true);
    expect(impatient.every((a) => a.attempts.every((t) => t.runningAt === undefined))).toBe(true);
  });

  it("runs the attempts held behind a body that kills its worker on another worker", async () => {
    const run = await flyte.withRunContext({ cacheDir: home }).run(behindCrash, 40);
    const out = (await run.outputs()) as { crash: string; rest: number[] };
    expect(out.crash).toMatch(/exited with code 3/);
    expect(out.rest).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
