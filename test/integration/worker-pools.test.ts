// What only real worker pools do: survive crashes, kill stuck bodies, enforce memory limits,
// carry env vars and secrets, keep module state in reusable environments, and lend slots to
// nested calls.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultEngine } from "../../src/run/engine.js";
import { scopeInThread } from "../fixtures/pools/custom-context.js";
import {
  abortsOnFirstAttempt,
  countIdlingTwice,
  processFailures,
  rootTask,
  threadFailures,
  twoAtOnce,
} from "../fixtures/pools/failures.js";
import { mapFromInline, mapFromProcess } from "../fixtures/pools/mapping.js";
import { suites } from "../fixtures/pools/tasks.js";

const reusablePoolSizes = () => defaultEngine().pools.sizes();

let home: string;
const runIn = (options: flyte.RunOptions = {}) =>
  flyte.withRunContext({ cacheDir: home, ...options });
const secretValue = "s3cr3t-token-value-9f8e7d";

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-pools-"));
  await writeFile(join(home, "secrets.env"), `# test secrets\nPOOL_TEST_TOKEN=${secretValue}\n`);
  await chmod(join(home, "secrets.env"), 0o600);
});

afterAll(() => flyte.shutdown());

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe.each([
  ["thread", threadFailures],
  ["process", processFailures],
] as const)("the %s pool", (runtime, tasks) => {
  it("retries an attempt whose worker exited, on a fresh worker", async () => {
    const clock = new ManualClock();
    const running = runIn({ clock }).run(tasks.exitsOnFirstAttempt);
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    const run = await running;
    expect(await run.outputs()).toBe("recovered");
    expect(run.actions[0]?.attempts[0]?.error?.name).toBe("RuntimeSystemError");
  });

  it("reports a worker's exit code as RuntimeSystemError", async () => {
    const error = await runIn()
      .run(tasks.alwaysExits)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeSystemError);
    expect((error as Error).message).toMatch(/exited with code 7/);
  });

  it("turns an uncaught error in a timer into a failed attempt instead of a hang", async () => {
    const error = await runIn()
      .run(tasks.throwsInTimer)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.FlyteError);
  });

  it("kills a body stuck in a busy loop at its maxRuntime and retries it", async () => {
    const clock = new ManualClock();
    let bodyStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      bodyStarted = resolve;
    });
    const running = runIn({
      clock,
      onEvent: (event) => {
        if (event.type === "action-finished" && event.action !== "a0") bodyStarted();
      },
    }).run(tasks.spinsOnFirstAttempt);
    await started;
    expect(await clock.nextTimer()).toBe(60_000);
    clock.advance(60_000);
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    const run = await running;
    expect(await run.outputs()).toBe("spun out");
    expect(run.actions.find((a) => a.id === "a0")?.attempts[0]?.error?.name).toBe(
      "TaskTimeoutError",
    );
  });

  it("fails with OOMError when a body outgrows its environment's memory", async () => {
    const error = await runIn()
      .run(tasks.eatsMemory)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.OOMError);
  });

  it("gives the worker its env vars and secrets, and keeps secret values out of the run folder", async () => {
    const run = await runIn().run(tasks.readsEnvironment);
    const out = (await run.outputs()) as { plain: string; tokenLength: number; pid: number };
    expect(out.plain).toBe("plain");
    expect(out.tokenLength).toBe(secretValue.length);
    if (runtime === "process") expect(out.pid).not.toBe(process.pid);
    for (const file of await filesUnder(run.url)) {
      expect(await readFile(file, "utf8")).not.toContain(secretValue);
    }
  });

  it("names an error of the task's own class by that class, as upstream's code", async () => {
    const error = await runIn()
      .run(tasks.throwsOwnClass)
      .catch((e: unknown) => e);
    expect((error as Error).constructor).toBe(flyte.errors.RuntimeUserError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("QuotaError");
    expect((error as Error).message).toBe("over quota");
  });

  it("gives the body a mounted secret as a 0600 file in a private folder, removed afterwards", async () => {
    const run = await runIn().run(tasks.readsSecretFile);
    const out = (await run.outputs()) as {
      dir: string;
      length: number;
      mode: number;
      dirMode: number;
    };
    expect(out).toMatchObject({ length: secretValue.length, mode: 0o600, dirMode: 0o700 });
    expect(existsSync(out.dir)).toBe(false);
  });

  it("fails before the task starts when a secret is missing, naming both places to put it", async () => {
    const events: flyte.RunEvent[] = [];
    const error = await runIn({ onEvent: (e) => events.push(e) })
      .run(tasks.needsMissingSecret)
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain("POOL_TEST_ABSENT_TOKEN");
    expect((error as Error).message).toContain(join(home, "secrets.env"));
    expect(events.some((e) => e.type === "attempt-started")).toBe(false);
  });
});

describe("native crashes", () => {
  it("turn a process worker's SIGABRT into a RuntimeSystemError naming the signal, then retry", async () => {
    const clock = new ManualClock();
    const running = runIn({ clock }).run(abortsOnFirstAttempt);
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    const run = await running;
    expect(await run.outputs()).toBe("survived a native crash");
    const first = run.actions[0]?.attempts[0]?.error;
    expect(first?.name).toBe("RuntimeSystemError");
    expect(first?.message).toMatch(/SIGABRT/);
  });
});

describe("reusable environments", () => {
  it.each(["thread", "process"] as const)(
    "keep %s workers and their module state between runs until shutdown",
    async (runtime) => {
      const count = suites[runtime].countCalls;
      const first = await (await runIn().run(count)).outputs();
      const second = await (await runIn().run(count)).outputs();
      expect(second).toBe(first + 1);
      await flyte.shutdown();
      expect(await (await runIn().run(count)).outputs()).toBe(1);
    },
  );

  it("stop workers above the minimum once they have been idle for scaledownTtl", async () => {
    const threads = await (await runIn().run(twoAtOnce)).outputs();
    expect(new Set(threads).size).toBe(2);
    // Await the condition; the test's timeout is the hang guard.
    while (reusablePoolSizes().scaling !== 1) await delay(10);
    expect(reusablePoolSizes().scaling).toBe(1);
  });

  it("stop every worker once the environment has been idle for idleTtl; the next call starts afresh", async () => {
    expect(await (await runIn().run(countIdlingTwice)).outputs()).toEqual([1, 2]);
    // Await the condition; the test's timeout is the hang guard.
    while (reusablePoolSizes().idling !== undefined) await delay(10);
    expect(await (await runIn().run(countIdlingTwice)).outputs()).toEqual([1, 2]);
  });

  it("run a 3-level nested fan-out of 50 × 50 on a pool of 2 without deadlock", async () => {
    const run = await runIn().run(rootTask, 50);
    let expected = 0;
    for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) expected += i * 100 + j;
    expect(await run.outputs()).toBe(expected);
    expect(run.actions).toHaveLength(1 + 50 + 2500);
  });
});

describe("custom context in workers", () => {
  it("passes a flyte.customContext block from a thread worker to the calls made inside it", async () => {
    const run = await runIn({ customContext: { team: "ml" } }).run(scopeInThread);
    expect(await run.outputs()).toEqual({
      inside: { team: "ml", project: "p1" },
      after: { team: "ml" },
    });
  });
});

describe("loading tasks in workers", () => {
  it("explains that a task not defined at module top level needs runtime inline", async () => {
    const env = new flyte.TaskEnvironment({ name: "not-top-level", runtime: "thread" });
    const local = env.task(async function local() {
      return 1;
    });
    const error = await runIn()
      .run(local)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/top level/);
    expect((error as Error).message).toMatch(/runtime: "inline"/);
  });
});

describe("flyte.map on worker runtimes", () => {
  it.each([
    ["an inline driver", mapFromInline],
    ["a driver in a child process", mapFromProcess],
  ] as const)(
    "sends small items in chunks from %s, keeping order and each item's own failure",
    async (_label, driver) => {
      const run = await runIn().run(driver as typeof mapFromInline, 200);
      const out = (await run.outputs()) as {
        doubled: unknown[];
        sums: number[];
        shifted: number[];
        strict: unknown;
        iterated: unknown[];
      };
      expect(out.doubled).toEqual(
        Array.from({ length: 200 }, (_, i) => (i === 13 ? "RangeError" : i * 2)),
      );
      expect(out.sums).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      // A partial's items arrive with the fixed argument in place.
      expect(out.shifted).toEqual(out.sums);
      // Without returnExceptions the map rejects with the item's error; iterating it yields the
      // items before the failed one (13 is in the second chunk), then throws.
      expect(out.strict).toBe("RangeError");
      expect(out.iterated).toEqual([...Array.from({ length: 13 }, (_, i) => i * 2), "RangeError"]);
      // 200 items in chunks of 8 per map: 25 chunk actions each, not 200.
      expect(run.actions.length).toBe(1 + 5 * 25);
    },
  );
});
