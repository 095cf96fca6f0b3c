/**
 * Long work written once as a generator that yields wherever it may pause, and run either at
 * once ({@link runSteps}) or in slices of the thread's time ({@link runStepsSliced}), so that
 * rendering a 100k-action report at a run's end does not hold the event loop.
 *
 * @example
 * ```ts
 * function* sum(xs: number[]): Steps<number> {
 *   let total = 0;
 *   for (let i = 0; i < xs.length; i++) {
 *     if (pauseAt(i)) yield;
 *     total += xs[i] as number;
 *   }
 *   return total;
 * }
 * runSteps(sum(xs));              // at once
 * await runStepsSliced(sum(xs));  // a slice per turn of the event loop
 * ```
 * @module
 */

/** Work that yields where it may pause and returns its result. */
export type Steps<T> = Generator<void, T, void>;

/** Whether a loop at item `i` should offer to pause: every 1,024 items. */
export function pauseAt(i: number): boolean {
  return (i & 1023) === 1023;
}

/** Runs `steps` to the end now. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Runs `steps` in slices of `sliceMs`, letting the event loop turn between them. */
export async function runStepsSliced<T>(steps: Steps<T>, sliceMs = 4): Promise<T> {
  let start = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - start >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      start = performance.now();
    }
  }
}
