import { describe, expect, it } from "vitest";
import {
  type AheadMessage,
  aheadDepth,
  aheadSlots,
  claim,
  freeSlot,
  HeldAttempts,
  hold,
} from "../../../src/execution/sent-ahead.js";

/** A worker's held attempts, with what it started, in order. */
function worker() {
  const started: number[] = [];
  const held = new HeldAttempts<AheadMessage>((message) => started.push(message.job));
  return { held, started };
}

describe("attempts sent ahead", () => {
  it("starts an attempt sent ahead only when the one before it lets go, in order", () => {
    const slots = aheadSlots();
    const { held, started } = worker();
    held.arrived({ job: 1 });
    hold(slots, 0, 2);
    hold(slots, 1, 3);
    held.arrived({ job: 2, after: 1, slot: 0, slots });
    held.arrived({ job: 3, after: 2, slot: 1 });
    expect(started).toEqual([1]);
    held.letGo(1);
    expect(started).toEqual([1, 2]);
    // Letting go twice (it awaited, then ended) starts nothing more.
    held.letGo(1);
    expect(started).toEqual([1, 2]);
    held.letGo(2);
    expect(started).toEqual([1, 2, 3]);
    expect(freeSlot(slots)).toBe(0);
  });

  it("starts an attempt at once when the one it was sent behind has already let go", () => {
    const slots = aheadSlots();
    const { held, started } = worker();
    held.arrived({ job: 1 });
    held.letGo(1);
    hold(slots, 0, 2);
    held.arrived({ job: 2, after: 1, slot: 0, slots });
    expect(started).toEqual([1, 2]);
  });

  it("skips attempts the pool called back, and starts the next one it did not", () => {
    const slots = aheadSlots();
    const { held, started } = worker();
    held.arrived({ job: 1 });
    hold(slots, 0, 2);
    hold(slots, 1, 3);
    hold(slots, 2, 4);
    held.arrived({ job: 2, after: 1, slot: 0, slots });
    held.arrived({ job: 3, after: 2, slot: 1 });
    held.arrived({ job: 4, after: 3, slot: 2 });
    // The pool stopped job 2 (say its maxQueuedTime passed): it took its token.
    expect(claim(slots, 0, 2)).toBe(true);
    held.letGo(1);
    expect(started).toEqual([1, 3]);
    // The pool calls back from the end: once the worker took a token, the pool cannot.
    expect(claim(slots, 2, 4)).toBe(true);
    expect(claim(slots, 1, 3)).toBe(false);
    held.letGo(3);
    expect(started).toEqual([1, 3]);
  });

  it("gives each token to one side only, and frees its slot either way", () => {
    const slots = aheadSlots();
    expect(slots.length).toBe(aheadDepth);
    hold(slots, 5, 41);
    expect(freeSlot(slots)).toBe(0);
    for (let slot = 0; slot < aheadDepth; slot++) if (slot !== 5) hold(slots, slot, slot);
    expect(freeSlot(slots)).toBe(-1);
    expect(claim(slots, 5, 40)).toBe(false);
    expect(claim(slots, 5, 41)).toBe(true);
    expect(claim(slots, 5, 41)).toBe(false);
    expect(freeSlot(slots)).toBe(5);
  });
});
