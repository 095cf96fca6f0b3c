import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { describe, expect, it } from "vitest";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-attempts-"));
const env = new flyte.TaskEnvironment({ name: "attempts", runtime: "inline" });

/** Resolves once `condition` holds, checking after each turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe("attempts", () => {
  it("retries a flaky task until it succeeds on the third attempt (case 23)", async () => {
    let calls = 0;
    const flaky = env.task({ retries: 2 }, async function flaky() {
      calls++;
      if (flyte.ctx()!.attemptNumber < 2) throw new Error("not yet");
      return flyte.ctx()!.attemptNumber;
    });
    const clock = new ManualClock();
    const running = flyte.withRunContext({ cacheDir, clock }).run(flaky);
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    expect(await clock.nextTimer()).toBe(1000);
    clock.advance(1000);
    const run = await running;
    expect(await run.outputs()).toBe(2);
    expect(calls).toBe(3);
    expect(run.actions[0]?.attempts).toHaveLength(3);
  });

  it("runs an always-failing task retries + 1 times, then raises RuntimeUserError (case 23)", async () => {
    let calls = 0;
    const failing = env.task(
      { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function alwaysFails() {
        calls++;
        throw new TypeError("always");
      },
    );
    const error = await flyte
      .withRunContext({ cacheDir })
      .run(failing)
      .catch((e: unknown) => e);
    expect(calls).toBe(2);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeUserError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("TypeError");
    expect((error as Error).message).toBe("always");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it("does not retry a NonRecoverableError; the caller gets RuntimeUserError with its code, as upstream", async () => {
    let calls = 0;
    const fatal = env.task({ retries: 5 }, async function fatal() {
      calls++;
      throw new flyte.errors.NonRecoverableError("bad input");
    });
    const error = await flyte
      .withRunContext({ cacheDir })
      .run(fatal)
      .catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect((error as Error).constructor).toBe(flyte.errors.RuntimeUserError);
    expect(error).not.toBeInstanceOf(flyte.errors.NonRecoverableError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("NonRecoverableError");
    expect((error as Error).message).toBe("bad input");
    expect((error as Error).cause).toBeInstanceOf(flyte.errors.NonRecoverableError);
  });

  it("retries a parent that lets a child's NonRecoverableError escape, as upstream", async () => {
    const calls = { child: 0, parent: 0 };
    const child = env.task({ retries: 3 }, async function fatalChild() {
      calls.child++;
      throw new flyte.errors.NonRecoverableError("bad input");
    });
    const parent = env.task(
      { retries: new flyte.RetryStrategy({ count: 2, backoff: 0 }) },
      async function escapingParent() {
        calls.parent++;
        return child();
      },
    );
    const error = await flyte
      .withRunContext({ cacheDir })
      .run(parent)
      .catch((e: unknown) => e);
    expect(calls).toEqual({ child: 3, parent: 3 });
    expect((error as flyte.errors.RuntimeUserError).code).toBe("NonRecoverableError");
  });

  it("waits a Backoff's base before the first retry, then grows it by its factor up to its cap", async () => {
    const flaky = env.task(
      {
        retries: new flyte.RetryStrategy({
          count: 3,
          backoff: new flyte.Backoff({ base: 1, factor: 2, cap: 3 }),
        }),
      },
      async function backedOff() {
        if (flyte.ctx()!.attemptNumber < 3) throw new Error("not yet");
        return flyte.ctx()!.attemptNumber;
      },
    );
    const clock = new ManualClock();
    const running = flyte.withRunContext({ cacheDir, clock }).run(flaky);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const wait = await clock.nextTimer();
      waits.push(wait);
      clock.advance(wait);
    }
    expect(waits).toEqual([1000, 2000, 3000]);
    expect(await (await running).outputs()).toBe(3);
  });

  it("rejects an attempt at its maxRuntime even if the body ignores the signal", async () => {
    const clock = new ManualClock();
    let sawAbort = false;
    const hangs = env.task({ timeout: 5 }, async function hangs() {
      flyte.ctx()!.signal.addEventListener("abort", () => {
        sawAbort = true;
      });
      await new Promise(() => {});
    });
    const running = flyte.withRunContext({ cacheDir, clock }).run(hangs);
    expect(await clock.nextTimer()).toBe(5000);
    clock.advance(5000);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.TaskTimeoutError);
    expect((error as Error).message).toMatch(/maxRuntime of 5\.0s/);
    expect(sawAbort).toBe(true);
  });

  it("retries a timed-out attempt with a fresh deadline", async () => {
    const clock = new ManualClock();
    const slowThenFast = env.task(
      { timeout: 1, retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function slowThenFast() {
        if (flyte.ctx()!.attemptNumber === 0) await new Promise(() => {});
        return "done";
      },
    );
    const running = flyte.withRunContext({ cacheDir, clock }).run(slowThenFast);
    await clock.nextTimer();
    clock.advance(1000);
    expect(await (await running).outputs()).toBe("done");
  });

  it("stops the action at its deadline, mid-attempt, whatever retries are left", async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const hangs = env.task(
      {
        retries: new flyte.RetryStrategy({ count: 5, backoff: 1 }),
        timeout: new flyte.Timeout({ maxRuntime: 4, deadline: 7 }),
      },
      async function hangsPastDeadline() {
        signals.push(flyte.ctx()!.signal);
        await new Promise(() => {});
      },
    );
    const running = flyte.withRunContext({ cacheDir, clock }).run(hangs);
    const outcome = running.catch((e: unknown) => e);
    await until(() => signals.length === 1 && clock.pending.includes(4000));
    clock.advance(4000); // attempt 0 passes its maxRuntime at t = 4 s
    await until(() => clock.pending.includes(1000));
    clock.advance(1000); // the backoff ends; attempt 1 starts at t = 5 s
    await until(() => signals.length === 2 && clock.pending.includes(4000));
    clock.advance(2000); // the deadline, t = 7 s, falls inside attempt 1
    const error = await outcome;
    expect(error).toBeInstanceOf(flyte.errors.TaskTimeoutError);
    expect((error as Error).message).toMatch(/passed its deadline of 7\.0s/);
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(clock.pending).toEqual([]);
  });

  it("counts the backoffs between retries against the deadline", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const failing = env.task(
      {
        retries: new flyte.RetryStrategy({ count: 10, backoff: 3 }),
        timeout: new flyte.Timeout({ deadline: "7s" }),
      },
      async function failsFast() {
        calls++;
        throw new Error("flaky");
      },
    );
    const outcome = flyte
      .withRunContext({ cacheDir, clock })
      .run(failing)
      .catch((e: unknown) => e);
    for (let retry = 0; retry < 3; retry++) {
      await until(() => clock.pending.includes(3000));
      clock.advance(3000);
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(flyte.errors.TaskTimeoutError);
    expect(calls).toBe(3);
  });

  it("passes a child's error to its parent as RuntimeUserError with the class name as code", async () => {
    const child = env.task(async function badChild() {
      throw new RangeError("out of range");
    });
    const parent = env.task(async function catchingParent() {
      try {
        await child();
        return "no error";
      } catch (error) {
        const e = error as flyte.errors.RuntimeUserError;
        return `${e.constructor.name}:${e.code}:${e.message}:${(e.cause as Error).constructor.name}`;
      }
    });
    const run = await flyte.withRunContext({ cacheDir }).run(parent);
    expect(await run.outputs()).toBe("RuntimeUserError:RangeError:out of range:RangeError");
  });
});
