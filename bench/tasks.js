// Task modules for the benchmarks (plain JavaScript, so workers load them without tsx).
import * as flyte from "flyte-ts";

const driver = new flyte.TaskEnvironment({ name: "bench-driver", runtime: "inline" });
const warm = new flyte.TaskEnvironment({
  name: "bench-warm",
  reusable: new flyte.ReusePolicy({ replicas: 2, concurrency: 1 }),
});
const warmProcess = new flyte.TaskEnvironment({
  name: "bench-warm-process",
  runtime: "process",
  reusable: new flyte.ReusePolicy({ replicas: 2, concurrency: 1 }),
});
const fresh = new flyte.TaskEnvironment({ name: "bench-fresh" });
const freshProcess = new flyte.TaskEnvironment({ name: "bench-fresh-process", runtime: "process" });

export const inc = warm.task(async function inc(x) {
  return x + 1;
});
export const incProcess = warmProcess.task(async function incProcess(x) {
  return x + 1;
});
export const incFresh = fresh.task(async function incFresh(x) {
  return x + 1;
});
export const incFreshProcess = freshProcess.task(async function incFreshProcess(x) {
  return x + 1;
});
export const echoProcess = warmProcess.task(async function echoProcess(x) {
  return x;
});

/** Calls `task` `n` times one after another. */
export const sequential = driver.task(async function sequential(name, n) {
  const task = { inc, incProcess, echoProcess }[name];
  for (let i = 0; i < n; i++) await task(i);
  return n;
});

/** Calls `task` `n` times with at most `inFlight` pending (0: all at once). */
export const windowed = driver.task(async function windowed(name, n, inFlight, payload) {
  const task = { inc, incProcess, echoProcess }[name];
  const arg = (i) => (payload === undefined ? i : payload);
  if (inFlight === 0) {
    await Promise.all(Array.from({ length: n }, (_, i) => task(arg(i))));
    return n;
  }
  let next = 0;
  const lane = async () => {
    while (next < n) await task(arg(next++));
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return n;
});

/** flyte.map over `n` tiny items. */
export const mapped = driver.task(async function mapped(n) {
  const out = await flyte.map(
    inc,
    Array.from({ length: n }, (_, i) => i),
    { returnExceptions: false },
  );
  return out.length;
});

// io.fanout: async bodies that wait on a timer, on the default environment and inline.
const io = new flyte.TaskEnvironment({ name: "bench-io" });
const ioInline = new flyte.TaskEnvironment({ name: "bench-io-inline", runtime: "inline" });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const waitPooled = io.task(async function waitPooled(ms) {
  await sleep(ms);
  return ms;
});
export const waitInline = ioInline.task(async function waitInline(ms) {
  await sleep(ms);
  return ms;
});
export const computePooled = io.task(async function computePooled(ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    // busy
  }
  return [start, Date.now()];
});
/** Calls `name` `n` times at once with `ms`. */
export const fanOutIo = driver.task(async function fanOutIo(name, n, ms) {
  const task = { waitPooled, waitInline, computePooled }[name];
  return Promise.all(Array.from({ length: n }, () => task(ms)));
});
