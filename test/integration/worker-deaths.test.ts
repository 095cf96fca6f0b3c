// Real process workers that die: the attempt's error names the cause.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abortsUnderMemoryLimit, outgrowsHeap } from "../fixtures/pools/deaths.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-deaths-"));
});
afterAll(() => flyte.shutdown());

const failure = (task: flyte.Task<[], unknown>): Promise<flyte.errors.FlyteError> =>
  flyte
    .withRunContext({ cacheDir: home, echoLogs: false })
    .run(task)
    .then(
      () => {
        throw new Error("the run succeeded");
      },
      (e: unknown) => e as flyte.errors.FlyteError,
    );

describe("a process worker that dies", () => {
  it("is a crashed worker with its signal when it aborts natively under a memory limit, not OOM", async () => {
    const error = await failure(abortsUnderMemoryLimit);
    expect(error).not.toBeInstanceOf(flyte.errors.OOMError);
    expect(error).toBeInstanceOf(flyte.errors.RuntimeSystemError);
    expect(error.code).toBe("WorkerDiedError");
    expect(error.message).toMatch(/killed by signal SIGABRT \(a native abort\)/);
  });

  it("is out of memory when V8 says its heap ran out", async () => {
    const error = await failure(outgrowsHeap);
    expect(error).toBeInstanceOf(flyte.errors.OOMError);
    expect(error.message).toMatch(/running out of memory \(heap limit 64 MiB\)/);
  });
});
