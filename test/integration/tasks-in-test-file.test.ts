// Tasks defined at the top of a vitest file run in workers: a worker imports this very file to
// find them, with vitest's functions stubbed out so that no test runs there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const threads = new flyte.TaskEnvironment({ name: "test-file-threads", runtime: "thread" });
const processes = new flyte.TaskEnvironment({ name: "test-file-processes", runtime: "process" });

const double = threads.task(async function double(x: number) {
  return x * 2;
});

const triple = processes.task(async function triple(x: number) {
  return { value: x * 3, pid: process.pid };
});

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-test-file-"));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("tasks defined at the top of a test file", () => {
  it("run on a worker thread and in a child process", async () => {
    const [two, three] = await Promise.all([
      flyte.withRunContext({ cacheDir: home }).run(double, 1),
      flyte.withRunContext({ cacheDir: home }).run(triple, 1),
    ]);
    expect(await two.outputs()).toBe(2);
    const tripled = await three.outputs();
    expect(tripled.value).toBe(3);
    expect(tripled.pid).not.toBe(process.pid);
  });
});
