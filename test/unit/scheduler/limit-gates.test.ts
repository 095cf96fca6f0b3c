// The gates behind maxActionConcurrency, maxConcurrency and rateLimit, on a manual clock.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/internal/time.js";
import { RateGate, SlotGate } from "../../../src/scheduler/limit-gates.js";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const never = new AbortController().signal;

describe("RateGate", () => {
  it("starts at most max in any window, in arrival order, as the clock moves", async () => {
    const clock = new ManualClock(10_000);
    const gate = new RateGate(2, 1000);
    const started: number[] = [];
    // Each body starts as soon as it is let through.
    const all = [0, 1, 2, 3, 4].map((i) =>
      gate.take(clock, never).then((ticket) => {
        ticket.start();
        started.push(i);
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(await clock.nextTimer()).toBe(1000);
    clock.advance(999);
    await flush();
    expect(started).toEqual([0, 1]);
    clock.advance(1);
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    clock.advance(1000);
    await Promise.all(all);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(gate.waiting).toBe(0);
  });

  it("counts a start when the body starts, so attempts let through together cannot burst later", async () => {
    const clock = new ManualClock(0);
    const gate = new RateGate(2, 1000);
    const a = gate.tryTake(clock);
    const b = gate.tryTake(clock);
    expect(gate.tryTake(clock)).toBeUndefined();
    // Both wait 5 s for a worker, then start: the window counts from their start.
    clock.advance(5000);
    a?.start();
    b?.start();
    expect(gate.tryTake(clock)).toBeUndefined();
    clock.advance(999);
    expect(gate.tryTake(clock)).toBeUndefined();
    clock.advance(1);
    expect(gate.tryTake(clock)).toBeDefined();
  });

  it("gives a reservation back when the attempt ends without starting", async () => {
    const clock = new ManualClock(0);
    const gate = new RateGate(1, 1000);
    const first = gate.tryTake(clock);
    let second = false;
    const waiting = gate.take(clock, never).then(() => {
      second = true;
    });
    await flush();
    expect(second).toBe(false);
    first?.cancel();
    await waiting;
    expect(second).toBe(true);
  });

  it("counts a sliding window: a start late in one window delays the next", async () => {
    const clock = new ManualClock(0);
    const gate = new RateGate(1, 1000);
    gate.tryTake(clock)?.start();
    clock.advance(600);
    let second = false;
    const waiting = gate.take(clock, never).then(() => {
      second = true;
    });
    expect(clock.pending).toEqual([400]);
    clock.advance(400);
    await waiting;
    expect(second).toBe(true);
    expect(gate.tryTake(clock)).toBeUndefined();
  });

  it("drops a waiter whose signal aborts, and lets the next go in its place", async () => {
    const clock = new ManualClock(0);
    const gate = new RateGate(1, 1000);
    gate.tryTake(clock)?.start();
    const abort = new AbortController();
    const first = gate.take(clock, abort.signal);
    const second = gate.take(clock, never);
    abort.abort(new Error("gave up"));
    await expect(first).rejects.toThrow("gave up");
    clock.advance(1000);
    await second;
    expect(gate.waiting).toBe(0);
  });
});

describe("SlotGate", () => {
  it("hands slots over in arrival order and takes a lender's slot back past max", async () => {
    const gate = new SlotGate(1);
    expect(gate.tryTake()).toBe(true);
    const order: string[] = [];
    const b = gate.take(never).then(() => order.push("b"));
    const c = gate.take(never).then(() => order.push("c"));
    expect(gate.waiting).toBe(2);
    gate.give(); // a lends: b gets the slot
    await b;
    expect(order).toEqual(["b"]);
    gate.retake(); // a resumes at once, even past max
    expect(gate.held).toBe(2);
    gate.give(); // b done: over max, so nobody is handed a slot yet
    await flush();
    expect(order).toEqual(["b"]);
    gate.give(); // a done: c's turn
    await c;
    expect(order).toEqual(["b", "c"]);
    gate.give();
    expect(gate.held).toBe(0);
  });
});
