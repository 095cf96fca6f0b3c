// One suite, run against every executor: worker threads, child processes and inline.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { ManualClock } from "flyte-ts/testing";
import { afterAll, describe, expect, it } from "vitest";
import { runtimes, suites, top } from "../fixtures/pools/tasks.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-conformance-"));
const runIn = (options: flyte.RunOptions = {}) => flyte.withRunContext({ cacheDir, ...options });

afterAll(() => flyte.shutdown());

describe.each(runtimes)("the %s executor", (runtime) => {
  const tasks = suites[runtime];

  it("runs an override called from a body with the override's settings", async () => {
    const run = await runIn().run(tasks.callsOverride, 4);
    expect(await run.outputs()).toBe(40);
    const child = run.actions.find((a) => a.task.endsWith(".firstAttemptFails"));
    expect(child?.attempts).toHaveLength(2);
  });

  it("keeps an override's settings in a map over it, batched or not", async () => {
    const run = await runIn().run(tasks.mapsOverride, 100);
    const { retried, relabelled } = (await run.outputs()) as {
      retried: number[];
      relabelled: string[];
    };
    expect(retried).toEqual([0, 10, 20]);
    expect(relabelled).toEqual(Array.from({ length: 100 }, (_, i) => `over-${i}`));
    // The 100 relabelled items went in chunks: fewer actions than items.
    const chunks = run.actions.filter((a) => a.task === "conf-labels.labelled");
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThan(100);
  });

  it("runs a task and returns its output", async () => {
    const run = await runIn().run(tasks.square, 7);
    expect(await run.outputs()).toBe(49);
  });

  it("round-trips rich values: Map, Set, Date, BigInt, typed arrays, Buffer, undefined, shared refs", async () => {
    const shared = { label: "shared" };
    const value = {
      map: new Map<unknown, unknown>([
        [1, "one"],
        ["two", new Set([2])],
      ]),
      date: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      floats: new Float64Array([1.5, -2.25]),
      ints: new Int32Array([-1, 7]),
      buffer: Buffer.from("bytes"),
      missing: undefined,
      a: shared,
      b: shared,
    };
    const out = (await (await runIn().run(tasks.echo, value)).outputs()) as typeof value;
    // Inline copies by structured clone, which turns a Buffer into a plain Uint8Array.
    expect({ ...out, buffer: undefined }).toEqual({ ...value, buffer: undefined });
    expect(Buffer.from(out.buffer).toString()).toBe("bytes");
    expect(out.floats).toBeInstanceOf(Float64Array);
    expect(out.a).toBe(out.b);
    expect("missing" in out).toBe(true);
  });

  it("rejects with RuntimeUserError whose code is the original error's class name", async () => {
    const error = await runIn()
      .run(tasks.fails, "bad value")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeUserError);
    expect((error as flyte.errors.RuntimeUserError).code).toBe("TypeError");
    expect((error as Error).message).toBe("bad value");
  });

  it("gives the body its context: action name, attempt, custom context and env vars", async () => {
    const run = await runIn({ customContext: { team: "ml" } }).run(tasks.context);
    expect(await run.outputs()).toEqual({
      action: "a0",
      attempt: 0,
      custom: { team: "ml" },
      runtime: runtime === "inline" ? process.env.CONF_RUNTIME : runtime,
    });
  });

  it("stops an attempt at its maxRuntime and retries it", async () => {
    const clock = new ManualClock();
    const running = runIn({ clock }).run(tasks.hangsOnFirstAttempt);
    expect(await clock.nextTimer()).toBe(30_000);
    clock.advance(30_000);
    expect(await clock.nextTimer()).toBe(500);
    clock.advance(500);
    const run = await running;
    expect(await run.outputs()).toBe("second attempt");
    expect(run.actions[0]?.attempts[0]?.error?.name).toBe("TaskTimeoutError");
  });

  it("replays a traced call on the next attempt instead of running it again", async () => {
    const run = await runIn().run(tasks.traced, "m");
    expect(await run.outputs()).toBe("m-0");
  });

  it("refuses a function input with RuntimeDataValidationError naming the parameter", async () => {
    const error = await runIn()
      .run(tasks.takesAnything, () => 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect((error as Error).message).toContain("`callback`");
  });
});

describe("nested calls across runtimes", () => {
  it("runs three levels: a thread task calls a process task which calls an inline task", async () => {
    const run = await runIn().run(top, 3);
    const out = (await run.outputs()) as {
      level: string;
      below: { level: string; pid: number; below: number };
      threadSquare: number;
    };
    expect(out.level).toBe("thread");
    expect(out.below.level).toBe("process");
    expect(out.below.pid).not.toBe(process.pid);
    expect(out.below.below).toBe(16);
    expect(out.threadSquare).toBe(9);
  });
});
