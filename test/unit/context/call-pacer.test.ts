import { describe, expect, it } from "vitest";
import { CallPacer } from "../../../src/context/call-pacer.js";

/** A clock the test moves by hand. */
function manualClock() {
  let now = 1_000;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("CallPacer", () => {
  it("issues calls at once while the slice lasts, returning the call's own promise", () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    const issued = Promise.resolve("a");
    expect(pacer.call(() => issued)).toBe(issued);
    clock.advance(3);
    const second = Promise.resolve("b");
    expect(pacer.call(() => second)).toBe(second);
    expect(pacer.queued).toBe(0);
  });

  it("queues calls once the slice is spent and issues them in order on a later turn", async () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    const order: number[] = [];
    const issue = (i: number) => () => {
      order.push(i);
      return Promise.resolve(i * 10);
    };
    const first = pacer.call(issue(0));
    clock.advance(5);
    const later = [1, 2, 3].map((i) => pacer.call(issue(i)));
    // Spent: nothing more is issued in this turn, and a call made now waits behind the queued.
    expect(order).toEqual([0]);
    expect(pacer.queued).toBe(3);
    expect(await Promise.all([first, ...later])).toEqual([0, 10, 20, 30]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(pacer.queued).toBe(0);
  });

  it("issues one slice per turn, letting the event loop run between slices", async () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    pacer.call(() => Promise.resolve(0));
    clock.advance(4);
    const turns: number[] = [];
    let turn = 0;
    const calls = Array.from({ length: 6 }, (_, i) =>
      pacer.call(() => {
        turns.push(turn);
        // Each issued call takes 2 ms of the slice: two per slice.
        clock.advance(2);
        return Promise.resolve(i);
      }),
    );
    // Counts the event loop's turns (one check phase each).
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await Promise.all(calls);
    ticking = false;
    // Two calls per slice, and the loop turned between slices.
    expect(turns[0]).toBe(turns[1]);
    expect(turns[2]).toBe(turns[3]);
    expect(turns[2]).toBeGreaterThan(turns[1] as number);
    expect(turns[4]).toBeGreaterThan(turns[3] as number);
  });

  it("turns a call that throws while queued into its rejection", async () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    pacer.call(() => Promise.resolve(0));
    clock.advance(5);
    const failed = pacer.call(() => {
      throw new Error("bad input");
    });
    await expect(failed).rejects.toThrow("bad input");
  });

  it("starts a fresh slice after an idle spell", () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    pacer.call(() => Promise.resolve(0));
    clock.advance(10);
    const issued = Promise.resolve(1);
    expect(pacer.call(() => issued)).toBe(issued);
  });

  it("queues calls while its owner says it is full, and issues them in order once woken", async () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 1 });
    let full = false;
    pacer.holdWhile(() => full);
    const order: number[] = [];
    const issue = (i: number) => () => {
      order.push(i);
      // The second call fills the executors' queues.
      if (i === 1) full = true;
      return Promise.resolve(i);
    };
    const calls = [0, 1, 2, 3].map((i) => pacer.call(issue(i)));
    expect(order).toEqual([0, 1]);
    // However many turns pass, nothing is issued while full.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([0, 1]);
    expect(pacer.queued).toBe(2);
    full = false;
    pacer.wake();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3]);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it("does not issue a new call at once while full, even with nothing queued", async () => {
    const pacer = new CallPacer({ now: manualClock().now, sliceMs: 4, minPerSlice: 1 });
    let full = true;
    pacer.holdWhile(() => full);
    let issued = false;
    const call = pacer.call(() => {
      issued = true;
      return Promise.resolve("late");
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(issued).toBe(false);
    full = false;
    pacer.wake();
    expect(await call).toBe("late");
  });

  it("tells how many calls wait after each slice, and 0 once all are issued", async () => {
    const clock = manualClock();
    const told: number[] = [];
    const pacer = new CallPacer({
      now: clock.now,
      sliceMs: 4,
      minPerSlice: 1,
      waiting: (n) => told.push(n),
    });
    pacer.call(() => Promise.resolve(0));
    clock.advance(4);
    const calls = Array.from({ length: 4 }, (_, i) =>
      pacer.call(() => {
        clock.advance(2);
        return Promise.resolve(i);
      }),
    );
    await Promise.all(calls);
    expect(told).toEqual([2, 0]);
  });

  it("issues a slice's first calls at once even past its time (a small fan-out goes out whole)", () => {
    const clock = manualClock();
    const pacer = new CallPacer({ now: clock.now, sliceMs: 4, minPerSlice: 3 });
    const issued: number[] = [];
    for (let i = 0; i < 5; i++) {
      pacer.call(() => {
        issued.push(i);
        // The third call starts as the 4 ms slice ends: it still goes, as one of the first 3.
        clock.advance(2);
        return Promise.resolve(i);
      });
    }
    expect(issued).toEqual([0, 1, 2]);
    expect(pacer.queued).toBe(2);
  });
});
