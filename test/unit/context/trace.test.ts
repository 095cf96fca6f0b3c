import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const env = new flyte.TaskEnvironment({ name: "traces", runtime: "inline" });

const squareTrace = flyte.trace(async function squareTrace(x: number) {
  return x * x;
});
const noIo = flyte.trace(async function noIo() {});
const sumSquares = env.task(async function sumSquares(n: number) {
  let total = 0;
  for (let i = 0; i < n; i++) total += await squareTrace(i);
  await noIo();
  return total;
});

describe("flyte.trace", () => {
  it("runs traced calls inside a task (case 24)", async () => {
    expect(await (await flyte.run(sumSquares, 3)).outputs()).toBe(5);
    expect(await (await flyte.run(sumSquares, 5)).outputs()).toBe(30);
  });

  it("supports a synchronous traced helper in a synchronous task (case 24)", async () => {
    const double = flyte.trace(function double(x: number) {
      return 2 * x;
    });
    const t = env.task(function syncWithTrace(x: number) {
      return double(x) + 1;
    });
    expect(await (await flyte.run(t, 4)).outputs()).toBe(9);
  });

  it("gives the trace body its own action name (case 24)", async () => {
    const actionName = flyte.trace(async function actionName() {
      return flyte.ctx()!.action.name;
    });
    const t = env.task(async function compareActions() {
      return [flyte.ctx()!.action.name, await actionName()];
    });
    const [outer, inner] = (await (await flyte.run(t)).outputs()) as string[];
    expect(inner).not.toBe(outer);
  });

  it("refuses a task called inside a trace (case 24)", async () => {
    const child = env.task(async function childOfTrace() {
      return 1;
    });
    const callsTask = flyte.trace(async function callsTask() {
      return child();
    });
    const t = env.task(async function traceCallsTask() {
      return callsTask();
    });
    const error = await flyte.run(t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeUserError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("TraceDoesNotAllowNestedTasksError");
  });

  it("replays completed traced calls on the next attempt instead of re-running them", async () => {
    const runs: number[] = [];
    const step = flyte.trace(async function step(i: number) {
      runs.push(i);
      return i * 10;
    });
    const t = env.task(
      { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function failsAfterSteps() {
        const a = await step(1);
        const b = await step(2);
        if (flyte.ctx()!.attemptNumber === 0) throw new Error("crash after the steps");
        return a + b + (await step(3));
      },
    );
    expect(await (await flyte.run(t)).outputs()).toBe(60);
    expect(runs).toEqual([1, 2, 3]);
  });

  it("replays a recorded error instead of re-running the failed call", async () => {
    let calls = 0;
    const failsOnce = flyte.trace(async function failsOnce() {
      calls++;
      throw new RangeError("traced failure");
    });
    const t = env.task(
      { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function catchesTraceError() {
        const message = await failsOnce().catch((e: Error) => `${e.name}:${e.message}`);
        if (flyte.ctx()!.attemptNumber === 0) throw new Error("retry me");
        return message;
      },
    );
    expect(await (await flyte.run(t)).outputs()).toBe("RangeError:traced failure");
    expect(calls).toBe(1);
  });

  it("records and replays an async generator's items", async () => {
    let produced = 0;
    const items = flyte.trace(async function* items(n: number) {
      for (let i = 0; i < n; i++) {
        produced++;
        yield i;
      }
    });
    const t = env.task(
      { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function consumesGenerator() {
        const seen: number[] = [];
        for await (const item of items(3)) seen.push(item);
        if (flyte.ctx()!.attemptNumber === 0) throw new Error("retry me");
        return seen;
      },
    );
    expect(await (await flyte.run(t)).outputs()).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
  });

  it("passes straight through outside a task (case 27)", async () => {
    expect(await squareTrace(4)).toBe(16);
  });
});
