import { describe, expect, it } from "vitest";
import { pauseAt, runSteps, runStepsSliced, type Steps } from "../../../src/internal/steps.js";

/** Sums 0..n-1, offering to pause every 1,024 items; `onItem` sees each item. */
function* sum(n: number, onItem: () => void = () => {}): Steps<number> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (pauseAt(i)) yield;
    onItem();
    total += i;
  }
  return total;
}

describe("steps", () => {
  it("runs at once or in slices to the same result", async () => {
    expect(runSteps(sum(10_000))).toBe(49_995_000);
    expect(await runStepsSliced(sum(10_000))).toBe(49_995_000);
  });

  it("lets the event loop turn between slices", async () => {
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    // A slice of 0 ms: every offered pause is taken.
    const seen: number[] = [];
    await runStepsSliced(
      sum(5_000, () => seen.push(turns)),
      0,
    );
    ticking = false;
    // Items 1023 and 1024 are on either side of a pause: the loop turned in between.
    expect(seen[1024]).toBeGreaterThan(seen[1022] as number);
    expect(seen[0]).toBe(seen[1022]);
  });
});
