// A fan-out issued in one loop does not hold the event loop: once the controller's slice is spent,
// the calls queue and are issued in order over the following turns (context/call-pacer.ts), with
// the same action ids as calls issued one at a time.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const env = new flyte.TaskEnvironment({ name: "call-pacing", runtime: "inline" });
const threads = new flyte.TaskEnvironment({ name: "call-pacing-threads" });

let started = 0;

const child = env.task(async function child(x: number) {
  started++;
  return { x, action: flyte.ctx()?.action.name };
});

/** Issues `n` calls in one loop; reports how many bodies had started when the loop ended and when the next turn came. */
const fanOut = env.task(async function fanOut(n: number) {
  started = 0;
  let atNextTurn = -1;
  setImmediate(() => {
    atNextTurn = started;
  });
  const calls = Array.from({ length: n }, () => child(7));
  const afterLoop = started;
  const outputs = await Promise.all(calls);
  return { afterLoop, atNextTurn, outputs };
});

/** The same calls, each awaited before the next. */
const oneByOne = env.task(async function oneByOne(n: number) {
  const outputs = [];
  for (let i = 0; i < n; i++) outputs.push(await child(7));
  return outputs;
});

/** Returns the setting it was called with. */
const readsSetting = threads.task(async function readsSetting(config: { lr: number }) {
  return config.lr;
});

/** The same on this thread. */
const readsSettingInline = env.task(async function readsSettingInline(config: { lr: number }) {
  return config.lr;
});

/** Calls a task `n` times with one object, changed before each call. */
const reusesObject = env.task(async function reusesObject(n: number, inline = false) {
  const config = { lr: -1 };
  const calls: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    config.lr = i;
    calls.push(inline ? readsSettingInline(config) : readsSetting(config));
  }
  config.lr = -2;
  return Promise.all(calls);
});

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-pacing-"));
});

afterAll(async () => {
  await flyte.shutdown();
  await rm(home, { recursive: true, force: true });
});

describe("call pacing", () => {
  it("lets the event loop turn while a fan-out's calls are issued, in order", async () => {
    const n = 3000;
    const context = flyte.withRunContext({ cacheDir: home });
    const { afterLoop, atNextTurn, outputs } = await (await context.run(fanOut, n)).outputs();
    // Some calls were issued in the loop (a lone call is never delayed), not all of them, and
    // the event loop turned before the last one was issued.
    expect(afterLoop).toBeGreaterThan(0);
    expect(afterLoop).toBeLessThan(n);
    expect(atNextTurn).toBeGreaterThanOrEqual(afterLoop);
    expect(atNextTurn).toBeLessThan(n);
    expect(outputs.map((o) => o.x)).toEqual(Array(n).fill(7));
    // Issued in call order: the same ids as calls made one at a time (ids count equal calls).
    const sequential = await (await context.run(oneByOne, n)).outputs();
    expect(outputs.map((o) => o.action)).toEqual(sequential.map((o) => o.action));
    expect(new Set(outputs.map((o) => o.action)).size).toBe(n);
  });

  it("gives a queued call's child the arguments as they were when the call was made", async () => {
    const n = 2000;
    const context = flyte.withRunContext({ cacheDir: home });
    const expected = Array.from({ length: n }, (_, i) => i);
    expect(await (await context.run(reusesObject, n)).outputs()).toEqual(expected);
    expect(await (await context.run(reusesObject, n, true)).outputs()).toEqual(expected);
  });
});
