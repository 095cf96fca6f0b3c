/**
 * Retries, errors and timeouts: a flaky task retried with backoff until it succeeds, a task that
 * gives up at once with NonRecoverableError, a task stopped by its timeout, and a parent that
 * tells its children's failures apart by `error.code`.
 *
 *   npx flyte-ts run examples/retries.ts main
 *   npx flyte-ts run examples/retries.ts flaky --failures 2
 */
import { setTimeout as sleep } from "node:timers/promises";
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "retries" });

/** Fails on its first `failures` attempts, then succeeds. Waits 50 ms between attempts. */
export const flaky = env.task(
  { retries: new flyte.RetryStrategy({ count: 3, backoff: "50ms", backoffFactor: 2 }) },
  async function flaky(failures: number = 2): Promise<string> {
    const attempt = flyte.ctx()?.attemptNumber ?? 0;
    if (attempt < failures) throw new Error(`a transient failure on attempt ${attempt}`);
    return `succeeded on attempt ${attempt}`;
  },
);

/** Rejects bad input with NonRecoverableError: retrying could not help, so it is never retried. */
export const validate = env.task({ retries: 3 }, async function validate(value: number) {
  if (value < 0) {
    const attempt = flyte.ctx()?.attemptNumber ?? 0;
    throw new flyte.errors.NonRecoverableError(
      `value must be 0 or more, got ${value} (attempt ${attempt})`,
    );
  }
  return value;
});

/** Would take 10 s, but each attempt may run 200 ms; the body stops when ctx().signal aborts. */
export const slow = env.task({ timeout: "200ms" }, async function slow(): Promise<string> {
  await sleep(10_000, undefined, { signal: flyte.ctx()?.signal });
  return "finished";
});

/** Parses JSON; bad text throws a plain SyntaxError, which reaches the caller with code "SyntaxError". */
export const parse = env.task(async function parse(text: string): Promise<unknown> {
  return JSON.parse(text);
});

/** Calls each task above and reports how each call ended. */
export const main = env.task(async function main(): Promise<string> {
  const lines = [`flaky: ${await flaky(2)}`];
  const failures: Array<[string, () => Promise<unknown>]> = [
    ["validate", () => validate(-1)],
    ["slow", () => slow()],
    ["parse", () => parse("{not json")],
  ];
  for (const [name, call] of failures) {
    try {
      lines.push(`${name}: returned ${JSON.stringify(await call())}`);
    } catch (error) {
      // A child's failure arrives as RuntimeUserError (or a subclass); `code` names what happened.
      if (!(error instanceof flyte.errors.RuntimeUserError)) throw error;
      switch (error.code) {
        case "NonRecoverableError":
          lines.push(`${name}: gave up without retrying: ${error.message}`);
          break;
        case "TaskTimeoutError":
          lines.push(`${name}: timed out`);
          break;
        case "SyntaxError":
          lines.push(`${name}: bad input (${error.code})`);
          break;
        default:
          throw error;
      }
    }
  }
  return lines.join("\n");
});

flyte.main(import.meta, async () => {
  const run = await flyte.run(main);
  console.log(await run.outputs());
});
