// Task module for bench/worker-replacement.ts: TypeScript (as users write it), so a fresh worker
// pays for loading it through tsx, as it does in real runs.
import * as flyte from "flyte-ts";

const crashing = new flyte.TaskEnvironment({ name: "bench-crash" });
const driver = new flyte.TaskEnvironment({ name: "bench-crash-driver", runtime: "inline" });

// Each kills its worker on the first attempt; the retry returns when its body started (ms since
// the epoch), so the benchmark can tell how long after the death the next attempt began.

/** No backoff: the retry wants a worker at once. */
export const crashNow = crashing.task(
  { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
  async function crashNow(_i: number) {
    const started = Date.now();
    if (flyte.ctx()?.attemptNumber === 0) process.exit(1);
    return started;
  },
);

/** The default first backoff, 0.5 s: time enough to start a replacement. */
export const crashThenWait = crashing.task(
  { retries: new flyte.RetryStrategy({ count: 1, backoff: 0.5 }) },
  async function crashThenWait(_i: number) {
    const started = Date.now();
    if (flyte.ctx()?.attemptNumber === 0) process.exit(1);
    return started;
  },
);

/** Works `workMs`, then (first attempt only) kills its worker; no backoff. */
export const workThenCrash = crashing.task(
  { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
  async function workThenCrash(workMs: number) {
    const started = Date.now();
    if (flyte.ctx()?.attemptNumber === 0) {
      await new Promise((resolve) => setTimeout(resolve, workMs));
      process.exit(1);
    }
    return started;
  },
);

/** Deaths now and then: `n` calls one after another, each working `workMs` before it crashes. */
export const sporadic = driver.task(async function sporadic(n: number, workMs: number) {
  const bodies: number[] = [];
  for (let i = 0; i < n; i++) bodies.push(await workThenCrash(workMs));
  return bodies;
});

export const flood = driver.task(async function flood(n: number, wait: boolean) {
  const task = wait ? crashThenWait : crashNow;
  return Promise.all(Array.from({ length: n }, (_, i) => task(i)));
});
