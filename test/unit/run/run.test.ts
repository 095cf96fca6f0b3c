import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { storedRun } from "../../fixtures/stored-run.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-run-"));
const local = (options: flyte.RunOptions = {}) => flyte.withRunContext({ cacheDir, ...options });

const env = new flyte.TaskEnvironment({ name: "basics", runtime: "inline" });

const square = env.task(async function square(x: number) {
  return x * x;
});
const sayHello = env.task(async function sayHello(data: string, lt: number[]) {
  return `Hello ${data} ${JSON.stringify(lt).replaceAll(",", ", ")}`;
});
const parent = env.task(async function parent(data: string) {
  const squares = await Promise.all([0, 1, 2].map((i) => square(i)));
  return sayHello(data, squares);
});
const syncHello = env.task(function syncHello(i: number) {
  return `Hello, world ${i}!`;
});
const syncParent = env.task(function syncParent(n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => syncHello(i)));
});
const add = env.task(function add(a: number, b: number) {
  return a + b;
});
const nested = env.task(function nested(a: number, b: number) {
  return add(a, b);
});
const mode = env.task(async function mode() {
  return flyte.ctx()?.mode;
});
const mutate = env.task(async function mutate(list: number[]) {
  list.push(99);
  return list.length;
});
const mutatingParent = env.task(async function mutatingParent() {
  const list = [1, 2];
  const length = await mutate(list);
  return { length, list };
});

describe("flyte.run", () => {
  it("runs an async parent that gathers children, as a run and as a plain call (case 1)", async () => {
    const run = await local({ mode: "local" }).run(parent, "hello world");
    expect(await run.outputs()).toBe("Hello hello world [0, 1, 4]");
    expect(await parent("hello world")).toBe("Hello hello world [0, 1, 4]");
  });

  it("runs synchronous tasks and returns their results in order (cases 2, 4)", async () => {
    const run = await local().run(syncParent, 3);
    expect(await run.outputs()).toEqual(["Hello, world 0!", "Hello, world 1!", "Hello, world 2!"]);
  });

  it("returns the seed's output shape from outputs() (case 5)", async () => {
    const run = await flyte.run(syncHello, 7);
    expect(await run.outputs()).toBe("Hello, world 7!");
  });

  it("calls tasks as plain functions outside a run (case 27)", async () => {
    expect(await add(3, 5)).toBe(8);
    expect(await (await local().run(nested, 3, 5)).outputs()).toBe(8);
  });

  it("reports local mode inside a local run and makes wait() a no-op (case 28)", async () => {
    const run = await local().run(mode);
    expect(await run.outputs()).toBe("local");
    await expect(run.wait()).resolves.toBeUndefined();
  });

  it("gives children copies of their inputs, never the caller's objects", async () => {
    const run = await local().run(mutatingParent);
    expect(await run.outputs()).toEqual({ length: 3, list: [1, 2] });
  });

  it("records every action and writes them to the run store", async () => {
    const run = await local({ name: "recorded-run" }).run(parent, "x");
    expect(run.name).toBe("recorded-run");
    expect(run.status).toBe("succeeded");
    expect(run.actions.map((a) => a.task).sort()).toEqual([
      "basics.parent",
      "basics.sayHello",
      "basics.square",
      "basics.square",
      "basics.square",
    ]);
    const root = run.actions.find((a) => a.id === "a0");
    expect(root?.attempts).toHaveLength(1);
    expect(run.actions.filter((a) => a.parent === "a0")).toHaveLength(4);
    const stored = storedRun(cacheDir, "recorded-run");
    expect(stored?.name).toBe("recorded-run");
    expect(stored?.status).toBe("succeeded");
    expect(stored?.actions).toHaveLength(5);
  });

  it("gives sub-actions deterministic ids: the same program gets the same ids", async () => {
    const ids = async () => (await local().run(parent, "same")).actions.map((a) => a.id).sort();
    expect(await ids()).toEqual(await ids());
  });

  it("gives identical calls distinct ids through the call sequence", async () => {
    const twice = env.task(async function twice() {
      return Promise.all([square(2), square(2)]);
    });
    const run = await local().run(twice);
    const children = run.actions.filter((a) => a.parent === "a0");
    expect(new Set(children.map((a) => a.id)).size).toBe(2);
  });

  it("passes customContext to every action", async () => {
    const read = env.task(async function readCustom() {
      return flyte.ctx()?.customContext.team;
    });
    const outer = env.task(async function outerCustom() {
      return read();
    });
    const run = await local({ customContext: { team: "ml" } }).run(outer);
    expect(await run.outputs()).toBe("ml");
  });

  it("refuses a plain function with a message saying to wrap it", async () => {
    const fn = async () => 1;
    await expect(local().run(fn as never)).rejects.toThrow(/env\.task/);
  });

  it("lists every bad run option at once", () => {
    expect(() =>
      flyte.withRunContext({
        mode: "cloud" as never,
        name: "bad name!",
        customContext: { a: 1 as never },
      }),
    ).toThrow(/mode[\s\S]*name[\s\S]*customContext\.a/);
  });

  it("refuses a child input that cannot be copied, naming the parameter", async () => {
    const takesFn = env.task(async function takesFn(callback: () => number) {
      return callback();
    });
    const caller = env.task(async function callsWithFn() {
      return takesFn(() => 1);
    });
    const error = await local()
      .run(caller)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect((error as Error).message).toMatch(/callback/);
  });

  it("cancels a run when its signal aborts", async () => {
    const controller = new AbortController();
    const waits = env.task(async function waitsForever() {
      const signal = flyte.ctx()!.signal;
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    });
    const running = local({ signal: controller.signal }).run(waits);
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(flyte.errors.RunCancelledError);
  });

  it("reports events to onEvent in order", async () => {
    const events: string[] = [];
    await local({ onEvent: (e) => events.push(e.type) }).run(square, 2);
    expect(events).toEqual([
      "run-started",
      "action-queued",
      "attempt-started",
      "attempt-phase",
      "attempt-phase",
      "attempt-phase",
      "attempt-finished",
      "action-finished",
      "run-finished",
    ]);
  });
});
