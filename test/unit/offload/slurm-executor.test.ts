// The Slurm executor against a stand-in cluster (sbatch, squeue and scancel answered in memory):
// job states as attempt phases, outcomes read from the shared folder, queue limits, cancelling.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Slurm } from "../../../src/api/slurm.js";
import type { TaskTemplate } from "../../../src/api/task.js";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import { DeploymentError, TaskTimeoutError } from "../../../src/errors.js";
import { AttemptAbort } from "../../../src/execution/attempt-abort.js";
import type { ExecuteRequest } from "../../../src/execution/executor.js";
import { systemClock } from "../../../src/internal/time.js";
import { writeError, writeOutputs } from "../../../src/offload/io.js";
import { SlurmExecutor } from "../../../src/offload/slurm-executor.js";
import type { CommandResult, SlurmCommands } from "../../../src/offload/slurm-submit.js";
import type { LogStream } from "../../../src/record/logs.js";

const cluster = new Slurm({ partition: "debug" });
const env = new TaskEnvironment({ name: "fake-hpc", offload: cluster, runtime: "inline" });
const work = env.task(async function work(x: number) {
  return x;
});
const queued = env.task({ timeout: { maxQueuedTime: 0.2 } }, async function queued() {});

/** A cluster in memory: jobs and their states, set by the test. */
class FakeSlurm implements SlurmCommands {
  readonly where = "the fake";
  readonly jobs = new Map<string, { state: string; reason: string; node: string }>();
  readonly scripts: string[] = [];
  readonly cancelled: string[] = [];
  #next = 100;
  sbatchMissing = false;

  async run(argv: readonly string[], options: { input?: string } = {}): Promise<CommandResult> {
    const [command, ...args] = argv;
    if (command === "sbatch") {
      if (this.sbatchMissing)
        return { code: 127, stdout: "", stderr: "spawn sbatch ENOENT", notStarted: true };
      const id = String(this.#next++);
      this.scripts.push(options.input ?? "");
      const array = /--array=0-(\d+)/.exec(options.input ?? "")?.[1];
      const ids =
        array === undefined
          ? [id]
          : Array.from({ length: Number(array) + 1 }, (_, i) => `${id}_${i}`);
      for (const job of ids) this.jobs.set(job, { state: "PENDING", reason: "Priority", node: "" });
      return { code: 0, stdout: `${id}\n`, stderr: "" };
    }
    if (command === "squeue") {
      const wanted = (args.find((a) => a.startsWith("--jobs="))?.slice(7) ?? "").split(",");
      const lines = [...this.jobs]
        .filter(([id]) => wanted.includes(id.split("_")[0] as string))
        .map(([id, s]) => `${id}|${s.state}|${s.reason}|${s.node}`);
      return { code: 0, stdout: lines.join("\n"), stderr: "" };
    }
    if (command === "scancel") {
      for (const id of args) {
        this.cancelled.push(id);
        const job = this.jobs.get(id);
        if (job !== undefined) job.state = "CANCELLED";
      }
      return { code: 0, stdout: "", stderr: "" };
    }
    return { code: 127, stdout: "", stderr: `${command}: not found`, notStarted: true };
  }

  set(id: string, state: string, reason = "None", node = "node-7"): void {
    this.jobs.set(id, { state, reason, node });
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flyte-ts-slurm-exec-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function executorFor(fake: FakeSlurm, name: string): SlurmExecutor {
  return new SlurmExecutor(cluster, {
    runName: name,
    emitDir: join(scratch, name, "emit"),
    rawDataPath: join(scratch, name, "raw"),
    customContext: {},
    version: undefined,
    clock: systemClock,
    root: scratch,
    watchTiming: { minMs: 5, maxMs: 20 },
    commands: fake,
  });
}

interface Seen {
  lane?: string;
  started: boolean;
  logs: string[];
}

function request(
  template: TaskTemplate,
  action: string,
  signal: AbortSignal,
  seen: Seen,
): ExecuteRequest {
  return {
    template,
    args: [7],
    context: {
      action: { name: action, runName: "r" },
      taskName: template.name,
      attemptNumber: 0,
      mode: "hybrid",
      version: "",
      group: undefined,
      outputPath: join(scratch, action),
      rawDataPath: scratch,
      runBaseDir: scratch,
      customContext: {},
      devices: [],
      cpus: [],
    },
    traces: new Map(),
    channel: { submit: () => Promise.reject(new Error("no sub-calls")), recordTrace: () => {} },
    abort: AttemptAbort.following(signal),
    env: {},
    logs: {
      echo: false,
      write: (_a: string, stream: LogStream, text: string) => seen.logs.push(`${stream}:${text}`),
    },
    placed: (lane) => {
      seen.lane = lane;
    },
    started: () => {
      seen.started = true;
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error("condition not reached (hang guard)");
}

describe("SlurmExecutor", () => {
  it("follows a job from PENDING to RUNNING (placed, started) to COMPLETED, and reads its outputs back", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "ok");
    const seen: Seen = { started: false, logs: [] };
    const result = executor.execute(request(work, "a1", new AbortController().signal, seen));
    await until(() => fake.jobs.has("100"));
    expect(fake.scripts[0]).toContain("--partition=debug");
    fake.set("100", "RUNNING");
    await until(() => seen.started);
    expect(seen.lane).toBe("slurm:node-7");
    const raw = join(scratch, "ok", "raw", "offload", "actions", "a1");
    await writeOutputs(join(raw, "outputs", "attempt-0"), { answer: 42 });
    const { appendFile } = await import("node:fs/promises");
    await appendFile(join(raw, "slurm-attempt-0.out"), "hello from the node\n");
    fake.set("100", "COMPLETED");
    expect(await result).toEqual({ answer: 42 });
    expect(seen.logs).toEqual(["stdout:hello from the node\n"]);
    await executor.close();
    expect(fake.cancelled).toEqual([]);
  });

  it("places a job that ended between two polls on the node it ran on", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "quick");
    const seen: Seen = { started: false, logs: [] };
    const result = executor.execute(request(work, "a9", new AbortController().signal, seen));
    await until(() => fake.jobs.has("100"));
    await writeOutputs(
      join(scratch, "quick", "raw", "offload", "actions", "a9", "outputs", "attempt-0"),
      9,
    );
    // Never seen RUNNING: PENDING, then COMPLETED.
    fake.set("100", "COMPLETED");
    expect(await result).toBe(9);
    expect([seen.lane, seen.started]).toEqual(["slurm:node-7", true]);
    await executor.close();
  });

  it("rebuilds the task's error from the job's error file", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "err");
    const result = executor.execute(
      request(work, "a2", new AbortController().signal, { started: false, logs: [] }),
    );
    await until(() => fake.jobs.has("100"));
    await writeError(
      join(scratch, "err", "raw", "offload", "actions", "a2", "outputs", "attempt-0"),
      new RangeError("too big"),
    );
    fake.set("100", "FAILED", "NonZeroExitCode");
    await expect(result).rejects.toThrow(/too big/);
    await executor.close();
  });

  it("cancels a job still pending at its maxQueuedTime", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "queued");
    const result = executor.execute(
      request(queued, "a3", new AbortController().signal, { started: false, logs: [] }),
    );
    await expect(result).rejects.toBeInstanceOf(TaskTimeoutError);
    await expect(result).rejects.toThrow(
      /waited in Slurm's queue \(job 100\) longer than its maxQueuedTime/,
    );
    await executor.close();
    expect(fake.cancelled).toEqual(["100"]);
  });

  it("cancels a job pending with a reason it can never leave, and says so", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "never");
    const result = executor.execute(
      request(work, "a4", new AbortController().signal, { started: false, logs: [] }),
    );
    await until(() => fake.jobs.has("100"));
    fake.set("100", "PENDING", "PartitionTimeLimit", "");
    await expect(result).rejects.toBeInstanceOf(DeploymentError);
    await expect(result).rejects.toThrow(
      /pending with reason PartitionTimeLimit\); it was cancelled/,
    );
    await executor.close();
    expect(fake.cancelled).toEqual(["100"]);
  });

  it("scancels the job when the attempt is aborted, and close() waits for it", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "abort");
    const abort = new AbortController();
    const seen: Seen = { started: false, logs: [] };
    const result = executor.execute(request(work, "a5", abort.signal, seen));
    await until(() => fake.jobs.has("100"));
    fake.set("100", "RUNNING");
    await until(() => seen.started);
    abort.abort(new Error("run cancelled"));
    await expect(result).rejects.toThrow("run cancelled");
    await executor.close();
    expect(fake.cancelled).toEqual(["100"]);
  });

  it("says what is missing and where the script is when sbatch is not there", async () => {
    const fake = new FakeSlurm();
    fake.sbatchMissing = true;
    const executor = executorFor(fake, "missing");
    const result = executor.execute(
      request(work, "a6", new AbortController().signal, { started: false, logs: [] }),
    );
    await expect(result).rejects.toMatchObject({ code: "NoSbatch" });
    const message = await result.catch((e: Error) => e.message);
    const script = join(scratch, "missing", "emit", "actions", "a6", "job-attempt-0.sbatch");
    expect(message).toContain(`\`sbatch ${script}\` submits it where Slurm runs`);
    expect(await readFile(script, "utf8")).toMatch(/^#!\/bin\/bash\n/);
    await executor.close();
  });

  it("gathers a map's first attempts into one job array", async () => {
    const fake = new FakeSlurm();
    const executor = executorFor(fake, "array");
    const signal = new AbortController().signal;
    const results = [0, 1, 2].map((index) =>
      executor.execute({
        ...request(work, `m${index}`, signal, { started: false, logs: [] }),
        mapItem: { map: "the-map", index, count: 3, concurrency: 2 },
      }),
    );
    await until(() => fake.jobs.has("100_2"));
    expect(fake.scripts).toHaveLength(1);
    expect(fake.scripts[0]).toContain("#SBATCH --array=0-2%2\n");
    for (const index of [0, 1, 2]) {
      const outputs = join(
        scratch,
        "array",
        "raw",
        "offload",
        "actions",
        `m${index}`,
        "outputs",
        "attempt-0",
      );
      await writeOutputs(outputs, index * 10);
      fake.set(`100_${index}`, "COMPLETED");
    }
    expect(await Promise.all(results)).toEqual([0, 10, 20]);
    await executor.close();
    expect(fake.cancelled).toEqual([]);
  });
});
