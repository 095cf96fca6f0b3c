// Values cross both worker runtimes unchanged, or are refused before they are sent with an error
// naming the value; nothing a worker sends can leave an attempt waiting forever.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  crossing,
  loadedMsgpackr,
  nested,
  postsUnreceivable,
  survivors,
} from "../fixtures/pools/crossing.js";
import { differenceOf } from "../fixtures/same-value.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-crossing-"));
});
afterAll(() => flyte.shutdown());

const runIn = () => flyte.withRunContext({ cacheDir: home, echoLogs: false });
const outputOf = async <A extends unknown[]>(task: flyte.Task<A, unknown>, ...args: A) =>
  (await runIn().run(task, ...args)).outputs();
const failureOf = <A extends unknown[]>(task: flyte.Task<A, unknown>, ...args: A) =>
  runIn()
    .run(task, ...args)
    .then(
      () => {
        throw new Error("the run succeeded");
      },
      (e: unknown) => e as Error,
    );

describe.each(["thread", "process"] as const)("values crossing a %s worker", (runtime) => {
  const tasks = crossing[runtime];

  it.each(Object.keys(survivors()))("carry %s back unchanged", async (name) => {
    expect(differenceOf(await outputOf(tasks.survivor, name), survivors()[name])).toBeUndefined();
  });

  it("carry a value over 16 KB there and back unchanged (msgpack bytes to a process)", async () => {
    // What msgpack carries exactly (the rest crosses as structured-clone bytes at any size); a
    // cyclic value cannot be an input (it has no canonical hash), only an output.
    const {
      "sparse arrays": _,
      "a lone surrogate": __,
      "negative zero": ___,
      "cyclic references": cycle,
      ...rest
    } = survivors();
    const value = { ...rest, padding: "x".repeat(20_000) };
    expect(differenceOf(await outputOf(tasks.echo, value), value)).toBeUndefined();
    const large = await outputOf(tasks.withPadding, "cyclic references", 20_000);
    expect(differenceOf(large, { value: cycle, padding: "x".repeat(20_000) })).toBeUndefined();
  });

  it("carry a sparse array, a lone surrogate and -0 there unchanged", async () => {
    const value = { holes: survivors()["sparse arrays"], text: "\uDC00!", zero: -0 };
    expect(differenceOf(await outputOf(tasks.echo, value), value)).toBeUndefined();
  });

  it("carry Error and RegExp back", async () => {
    const out = (await outputOf(tasks.errorAndRegExp)) as { error: Error; regexp: RegExp };
    expect(out.error).toBeInstanceOf(Error);
    expect([out.error.name, out.error.message]).toEqual(["TypeError", "boom"]);
    expect(out.regexp).toEqual(/a+b/gi);
  });

  it("carry a value nested 1,000 levels deep back", async () => {
    expect(await outputOf(tasks.deepOutput, 1000)).toEqual(nested(1000));
  });

  it("refuse an input nested deeper than 1,000 levels, naming the parameter", async () => {
    const error = await failureOf(tasks.echo, nested(1001));
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect(error.message).toMatch(
      /Input `value` of task `crossing-.*\.echo`.*nested more than 1000 levels deep/,
    );
  });

  it("refuse an output nested deeper than 1,000 levels, naming it, instead of hanging", async () => {
    const error = await failureOf(tasks.deepOutput, 5000);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect(error.message).toMatch(
      /output of task `crossing-.*\.deepOutput`.*nested more than 1000 levels/,
    );
  });

  it("refuse a Proxy input, naming the parameter", async () => {
    const error = await failureOf(tasks.echo, new Proxy({ a: 1 }, {}));
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect(error.message).toMatch(/Input `value` of task `crossing-.*\.echo` is a Proxy/);
  });
});

describe("a worker thread", () => {
  it("fails the attempt when it sends a message the controller cannot receive, instead of hanging", async () => {
    const error = await failureOf(postsUnreceivable, 8000);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeDataValidationError);
    expect(error.message).toMatch(
      /A message from task `crossing-raw.postsUnreceivable` \(action a0\)/,
    );
  });
});

describe("values crossing a process worker, by size", () => {
  it("go as structured-clone bytes when small (no msgpackr in the child), as msgpack when large", async () => {
    expect(await outputOf(loadedMsgpackr, "small")).toEqual({ length: 5, loaded: false });
    const large = "x".repeat(20_000);
    expect(await outputOf(loadedMsgpackr, large)).toEqual({ length: 20_000, loaded: true });
  });
});
