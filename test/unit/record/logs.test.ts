import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { type LogEntry, readLogs } from "../../../src/record/logs.js";

// vitest replaces `console` with its own, so these tasks write to the streams themselves;
// console.log is covered by the CLI tests, which run real processes.
const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-logs-"));
const env = new flyte.TaskEnvironment({ name: "logs", runtime: "inline" });

const shout = env.task(async function shout(word: string) {
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write(`word ${word}\n`);
  await new Promise((resolve) => setImmediate(resolve));
  process.stderr.write(`done ${word}\n`);
  return flyte.ctx()?.action.name;
});

const helper = flyte.trace(async function helper() {
  process.stdout.write("inside a traced call\n");
});

const parent = env.task(async function parent() {
  process.stdout.write("parent starts\n");
  const ids = await Promise.all(["a", "b", "c"].map((w) => shout(w)));
  await helper();
  return ids;
});

describe("task output capture", () => {
  it("attributes what concurrent inline tasks print to their own actions", async () => {
    const seen: LogEntry[] = [];
    const run = await flyte
      .withRunContext({ cacheDir, name: "concurrent", echoLogs: false, onLog: (e) => seen.push(e) })
      .run(parent);
    const [a, b, c] = (await run.outputs()) as string[];
    const logs = await readLogs(run.url);
    expect(logs).toEqual(seen);
    const textOf = (action: string | undefined) =>
      logs
        .filter((e) => e.action === action)
        .map((e) => `${e.stream}:${e.text}`)
        .join("");
    expect(textOf("a0")).toBe("stdout:parent starts\nstdout:inside a traced call\n");
    expect(textOf(a)).toBe("stdout:word a\nstderr:done a\n");
    expect(textOf(b)).toBe("stdout:word b\nstderr:done b\n");
    expect(textOf(c)).toBe("stdout:word c\nstderr:done c\n");
    expect(await readLogs(run.url, b)).toHaveLength(2);
  });

  it("leaves output written outside any task alone and stops capturing after the run", async () => {
    const original = process.stdout.write;
    const run = await flyte
      .withRunContext({ cacheDir, name: "after", echoLogs: false })
      .run(shout, "x");
    expect(process.stdout.write).toBe(original);
    expect((await readLogs(run.url)).map((e) => e.text)).toEqual(["word x\n", "done x\n"]);
  });

  it("reads no logs for a run whose tasks printed nothing", async () => {
    expect(await readLogs(join(cacheDir, "runs", "never"))).toEqual([]);
  });
});
