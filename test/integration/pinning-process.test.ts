// Pinning at the process level: a lease's variables, carried by ExecuteRequest.env into a real
// child process, pin it to its cores (through the native addon) and show it its GPUs. The
// executor here stands in for the process pool: it starts one child per attempt with exactly
// ExecuteRequest.env, as the pool does.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import type { ExecuteRequest, Executor } from "../../src/execution/executor.js";
import { InlineExecutor } from "../../src/execution/inline.js";
import { nativeAddon, nativeStatus } from "../../src/internal/native.js";
import { parseFakeDevices } from "../../src/scheduler/fake-devices.js";
import { LocalScheduler } from "../../src/scheduler/local-scheduler.js";
import { repoRoot } from "../fixtures/cli/cli-process.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-pin-process-"));
const noAddon = nativeAddon() === undefined;
if (noAddon) console.warn(`process pinning test skipped: the native addon is ${nativeStatus()}`);

const childScript = `
import { readFileSync } from "node:fs";
import { nativeAddon, pinFromEnv } from "./src/internal/native.ts";
const pinned = pinFromEnv(process.env);
const tid = nativeAddon().threadId();
const status = readFileSync("/proc/self/task/" + tid + "/status", "utf8");
console.log(JSON.stringify({
  pinned,
  allowed: /Cpus_allowed_list:\\s*(\\S+)/.exec(status)[1],
  cuda: process.env.CUDA_VISIBLE_DEVICES,
}));
`;

/** Starts one child process per attempt with the attempt's environment; returns what it saw. */
class ChildPerAttempt implements Executor {
  execute(request: ExecuteRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", childScript],
        { cwd: repoRoot, env: { ...process.env, ...request.env }, timeout: 60_000 },
        (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))),
      );
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const env = new flyte.TaskEnvironment({
  name: "pin_process",
  resources: new flyte.Resources({ gpu: 1 }),
});
const probe = env.task(async function probe(_i: number) {
  return {} as { pinned: boolean; allowed: string; cuda: string };
});
const fan = new flyte.TaskEnvironment({ name: "pin_fan", runtime: "inline" }).task(
  async function fan() {
    return Promise.all([probe(0), probe(1)]);
  },
);

describe("pinning a task's process", () => {
  it.skipIf(noAddon)(
    "pins two concurrent attempts' processes to distinct cores and shows each its own GPU",
    async () => {
      const fake = parseFakeDevices("H100:2");
      const scheduler = new LocalScheduler({
        inventory: {
          cpus: 2,
          cpuSource: "fake",
          memoryBytes: 2 ** 30,
          memorySource: "fake",
          gpus: fake.gpus,
          tpus: [],
          sources: ["fake"],
          warnings: [],
        },
      });
      const child = new ChildPerAttempt();
      const inline = new InlineExecutor();
      const run = await new flyte.RunContext(
        { cacheDir, pinCpus: true },
        {
          scheduler,
          executorFor: (t) => (t.name === "pin_process.probe" ? child : inline),
        },
      ).run(fan);
      const seen = await run.outputs();
      expect(seen.map((s) => s.pinned)).toEqual([true, true]);
      expect(new Set(seen.map((s) => s.allowed))).toEqual(new Set(["0", "1"]));
      expect(new Set(seen.map((s) => s.cuda))).toEqual(new Set(fake.gpus.map((g) => g.uuid)));
      expect(scheduler.usage()).toEqual({ cpuMilli: 0, memoryBytes: 0, devices: 0, cores: 0 });
    },
  );
});
