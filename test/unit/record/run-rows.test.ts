// The rows the run store writes for a run's events: an action's row and its attempts' rows end
// up as the run's in-memory record has them whichever batches their events fell into (long
// actions finish many batches after they were queued), and a resumed run that queues an action
// again replaces its rows instead of adding more.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../../src/record/events.js";
import { loadRun } from "../../../src/record/run-history.js";
import { type ActionRecord, RunRecord } from "../../../src/record/run-record.js";
import { RunStore } from "../../../src/record/run-store.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-rows-"));

/** The events of action `id`: a retry for every third, a cache hit (no attempt) for every fifth. */
function actionEvents(id: string, i: number): RunEvent[] {
  const at = 100 + i;
  const queued: RunEvent = {
    type: "action-queued",
    action: id,
    parent: "a0",
    task: "m.f",
    group: i % 2 === 0 ? "even" : undefined,
    at,
    label: `f(x=${i})`,
    inputs: [i],
    parameters: [{ name: "x", optional: false, rest: false }],
  };
  const finished: RunEvent = {
    type: "action-finished",
    action: id,
    status: "succeeded",
    at: at + 9,
    output: i * 10,
  };
  if (i % 5 === 0) return [queued, { type: "action-cache-hit", action: id, at }, finished];
  const attempt = (n: number, start: number, error?: boolean): RunEvent[] => [
    { type: "attempt-started", action: id, attempt: n, at: start },
    { type: "attempt-phase", action: id, attempt: n, at: start + 1, phase: "admitted" },
    {
      type: "attempt-phase",
      action: id,
      attempt: n,
      at: start + 1,
      phase: "placed",
      lane: "m/thread-1",
    },
    { type: "attempt-phase", action: id, attempt: n, at: start + 2, phase: "running" },
    {
      type: "attempt-finished",
      action: id,
      attempt: n,
      at: start + 3,
      ...(error ? { error: { name: "Error", message: "boom", code: "E", kind: "user" } } : {}),
    },
  ];
  if (i % 3 !== 0) return [queued, ...attempt(0, at + 1), finished];
  return [
    queued,
    ...attempt(0, at + 1, true),
    { type: "attempt-phase", action: id, attempt: 0, at: at + 4, phase: "backoff", delayMs: 2 },
    ...attempt(1, at + 5),
    finished,
  ];
}

/** What the run store keeps of an action, to compare with the in-memory record. */
function kept(a: ActionRecord) {
  return {
    id: a.id,
    group: a.group,
    status: a.status,
    cacheHit: a.cacheHit,
    endedAt: a.endedAt,
    label: a.label,
    inputs: a.inputs,
    output: a.output,
    attempts: a.attempts.map((t) => ({
      attempt: t.attempt,
      startedAt: t.startedAt,
      runningAt: t.runningAt,
      endedAt: t.endedAt,
      error: t.error?.message,
      backoffMs: t.backoffMs,
    })),
  };
}

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

/** A fan-out of `n` actions whose events interleave, the store writing every `every` events. */
function record(store: RunStore, run: string, n: number, every: number): RunRecord {
  const memory = new RunRecord();
  const observe = store.observer(run);
  const emit = (event: RunEvent) => {
    memory.observe(event);
    observe(event);
  };
  let emitted = 0;
  emit({ type: "run-started", run, task: "m.main", at: 1 });
  emit({
    type: "action-queued",
    action: "a0",
    parent: undefined,
    task: "m.main",
    group: undefined,
    at: 1,
  });
  const streams = Array.from({ length: n }, (_, i) => actionEvents(`x${(i * 7919) % 10_007}`, i));
  // Round-robin: each action's events are spread over the batches of all the others'.
  for (let step = 0; streams.some((s) => s.length > step); step++) {
    for (const stream of streams) {
      const event = stream[step];
      if (event === undefined) continue;
      emit(event);
      if (++emitted % every === 0) store.flush();
    }
  }
  emit({ type: "action-finished", action: "a0", status: "succeeded", at: 500 });
  emit({ type: "run-finished", run, status: "succeeded", at: 500 });
  store.flush();
  return memory;
}

describe("the run store's rows", () => {
  it("end as the run's record has them, however late in other batches an action finishes", () => {
    for (const every of [1, 7, 1_000_000]) {
      const home = newHome();
      const store = new RunStore(home);
      const memory = record(store, "fan", 30, every);
      const db = store.database;
      if (db === undefined) throw new Error("runs.db did not open");
      const stored = loadRun(db, "fan");
      expect(stored?.actions.map(kept).sort(byId)).toEqual(memory.actions.map(kept).sort(byId));
      expect(stored?.actions).toHaveLength(31);
      store.close();
    }
  });

  it("writes an action's rows through the writer thread the same way", () => {
    const home = newHome();
    const store = new RunStore(home);
    // Enough rows for the store to hand them to its writer thread.
    const memory = record(store, "wide", 600, 97);
    const stored = loadRun(store.database as NonNullable<typeof store.database>, "wide");
    expect(stored?.actions.map(kept).sort(byId)).toEqual(memory.actions.map(kept).sort(byId));
    store.close();
  });

  it("stores each output's bytes and seal, made by whoever writes the row, for a resume", () => {
    for (const [run, n, every] of [
      ["inline", 30, 1],
      ["thread", 600, 97],
    ] as const) {
      const store = new RunStore(newHome());
      record(store, run, n, every);
      const replay = store.replay(run);
      // Every action that ran (every fifth was a cache hit) is replayed: its seal held.
      for (let i = 0; i < n; i++) {
        const output = replay.output(`x${(i * 7919) % 10_007}`);
        expect(output).toEqual(i % 5 === 0 ? undefined : { value: i * 10 });
      }
      store.close();
    }
  });

  it("replaces the rows of an action a resumed run queues again, and appends new ones", () => {
    const home = newHome();
    const first = new RunStore(home);
    record(first, "again", 12, 5);
    first.close();
    const store = new RunStore(home);
    const observe = store.observer("again");
    observe({ type: "run-started", run: "again", task: "m.main", at: 600 });
    // x0 (a cache hit before) runs now; x7919 (one attempt before) runs twice.
    for (const [id, attempts] of [
      ["x0", 1],
      ["x7919", 2],
      ["fresh", 1],
    ] as const) {
      observe({
        type: "action-queued",
        action: id,
        parent: "a0",
        task: "m.f",
        group: undefined,
        at: 600,
      });
      store.flush();
      for (let n = 0; n < attempts; n++) {
        observe({ type: "attempt-started", action: id, attempt: n, at: 601 + n });
        store.flush();
        observe({ type: "attempt-finished", action: id, attempt: n, at: 602 + n });
      }
      observe({ type: "action-finished", action: id, status: "failed", at: 610 });
    }
    store.flush();
    const db = store.database;
    if (db === undefined) throw new Error("runs.db did not open");
    const run = loadRun(db, "again");
    expect(run?.actions).toHaveLength(14);
    const action = (id: string) => run?.actions.find((a) => a.id === id);
    expect(action("x0")).toMatchObject({ status: "failed", cacheHit: false, queuedAt: 600 });
    expect(action("x0")?.attempts.map((a) => [a.attempt, a.startedAt])).toEqual([[0, 601]]);
    expect(action("x7919")?.attempts.map((a) => [a.attempt, a.startedAt, a.endedAt])).toEqual([
      [0, 601, 602],
      [1, 602, 603],
    ]);
    expect(action("fresh")).toMatchObject({ status: "failed", endedAt: 610 });
    const ids = run?.actions.map((a) => a.id) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    store.close();
  });
  it("records an action that ends after its run did (a body that settled late)", () => {
    const store = new RunStore(newHome());
    const observe = store.observer("late");
    observe({ type: "run-started", run: "late", task: "m.main", at: 1 });
    observe({
      type: "action-queued",
      action: "slow",
      parent: "a0",
      task: "m.f",
      group: undefined,
      at: 2,
    });
    observe({ type: "attempt-started", action: "slow", attempt: 0, at: 3 });
    observe({ type: "attempt-phase", action: "slow", attempt: 0, at: 4, phase: "running" });
    const error = { name: "Error", message: "boom", code: "E", kind: "user" } as const;
    observe({ type: "run-finished", run: "late", status: "failed", at: 5, error });
    store.flush();
    observe({ type: "attempt-finished", action: "slow", attempt: 0, at: 7 });
    observe({ type: "action-finished", action: "slow", status: "cancelled", at: 8 });
    store.flush();
    const db = store.database;
    if (db === undefined) throw new Error("runs.db did not open");
    const action = loadRun(db, "late")?.actions.find((a) => a.id === "slow");
    expect(action).toMatchObject({ status: "cancelled", endedAt: 8 });
    expect(action?.attempts.map((a) => [a.attempt, a.runningAt, a.endedAt])).toEqual([[0, 4, 7]]);
    store.close();
  });
});
