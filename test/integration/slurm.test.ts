// Offload to a real Slurm cluster: the one-node cluster `.ci/slurm-up.sh` starts (CI runs it;
// run it as root to try these here). Every test submits real jobs. Without a cluster they skip
// and say why; with FLYTE_TS_REQUIRE_SLURM=1 (CI) that is a failure instead.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  errors,
  type RunEvent,
  type RunOptions,
  Slurm,
  TaskEnvironment,
  withRunContext,
} from "flyte-ts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readResult, writeInputs } from "../../src/offload/io.js";
import { ensureBuilt, runCli, runNode } from "../fixtures/cli/cli-process.js";
import { driver, hangs, retried, squares, times, usesGpu, waits } from "../fixtures/slurm/app.js";
import { jobState, liveJobs, slurmStatus, until } from "../fixtures/slurm/cluster.js";

const slurm = await slurmStatus();
const required = process.env.FLYTE_TS_REQUIRE_SLURM === "1";
if (!slurm.up && !required) console.warn(`Skipping the Slurm tests: ${slurm.why}.`);
const fakeSsh = new URL("../fixtures/slurm/fake-ssh.sh", import.meta.url).pathname;
const token = "tok-7f3a9c1e";

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flyte-ts-slurm-"));
  // The job's own engine reads the task's secret here, on the cluster side (same path: shared).
  await mkdir(join(scratch, "home"));
  await writeFile(join(scratch, "home", "secrets.env"), `SLURM_FIXTURE_TOKEN=${token}\n`);
  await chmod(join(scratch, "home", "secrets.env"), 0o600);
  await ensureBuilt();
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The options of a hybrid run named `name`, its folders under the scratch folder. */
function hybrid(name: string, extra: RunOptions = {}): RunOptions {
  return {
    mode: "hybrid",
    name,
    runBaseDir: join(scratch, "runs", name),
    rawDataPath: join(scratch, "raw", name),
    copyBundleTo: join(scratch, "emit", name),
    cacheDir: join(scratch, "home"),
    echoLogs: false,
    ...extra,
  };
}

/** Every file under `dir` whose name ends with `suffix`. */
function filesUnder(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
}

function attemptsOf(events: RunEvent[], task: string) {
  const actions = new Set(
    events.flatMap((e) => (e.type === "action-queued" && e.task === task ? [e.action] : [])),
  );
  // Where each attempt ran is its `placed` phase's lane.
  const lanes = new Map<string, string | undefined>();
  for (const e of events) {
    if (e.type === "attempt-phase" && e.phase === "placed")
      lanes.set(`${e.action}#${e.attempt}`, e.lane);
  }
  return events.flatMap((e) =>
    e.type === "attempt-finished" && actions.has(e.action)
      ? [{ ...e, lane: lanes.get(`${e.action}#${e.attempt}`) }]
      : [],
  );
}

test("flyte-ts execute ends once its outcome is written, even when the task leaves a timer running", async () => {
  const inputs = join(scratch, "lingering", "inputs.v8");
  await writeInputs(inputs, { args: [], customContext: {} });
  const outputs = join(scratch, "lingering", "outputs");
  const started = Date.now();
  const r = await runCli(
    [
      "execute",
      "--inputs",
      inputs,
      "--outputs-path",
      outputs,
      "--run-name",
      "linger",
      "--name",
      "a0",
    ].concat(["--module", "test/fixtures/slurm/app.ts", "--task", "slurm-work.lingering"]),
    {},
  );
  expect(r).toMatchObject({ code: 0, stderr: "" });
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(await readResult(outputs)).toBe("done");
});

test.runIf(required)("a Slurm cluster is up (FLYTE_TS_REQUIRE_SLURM=1)", () => {
  expect(slurm.why).toBe("");
});

describe.runIf(slurm.up)("offload to a real Slurm cluster", () => {
  test("a hybrid run sends the heavy task to Slurm and keeps its parent here", async () => {
    const events: RunEvent[] = [];
    const run = await withRunContext(
      hybrid("slurm-hybrid", { onEvent: (e) => events.push(e) }),
    ).run(driver, 4);
    const out = await run.outputs();
    expect(out).toMatchObject({
      value: 40,
      job: expect.stringMatching(/^\d+$/),
      greeting: "hello-from-env-vars",
      tokenLength: token.length,
      attempt: 0,
      driverPid: process.pid,
    });
    const [attempt] = attemptsOf(events, "slurm-heavy.heavy");
    expect(attempt?.lane).toBe(`slurm:${hostname()}`);
    // The job's stdout reached the run's logs under the offloaded action.
    const logs = readFileSync(join(scratch, "runs", "slurm-hybrid", "logs.jsonl"), "utf8");
    expect(logs).toContain(`"action":"${attempt?.action}","stream":"stdout"`);
    expect(logs).toContain(`heavy(4) on ${hostname()}`);
    // Neither the env var's value nor the secret's is written into a script or a log.
    const written = [
      ...filesUnder(join(scratch, "emit", "slurm-hybrid"), ".sbatch"),
      ...filesUnder(join(scratch, "raw", "slurm-hybrid"), ".out"),
      ...filesUnder(join(scratch, "raw", "slurm-hybrid"), ".err"),
      join(scratch, "runs", "slurm-hybrid", "logs.jsonl"),
    ];
    expect(written.length).toBeGreaterThanOrEqual(4);
    for (const file of written) {
      const text = readFileSync(file, "utf8");
      expect(text).not.toContain(token);
      expect(text).not.toContain("hello-from-env-vars");
    }
    expect(await jobState(out.job as string)).toBe("COMPLETED");
  });

  test("a job that fails is retried by the controller as a new job", async () => {
    const events: RunEvent[] = [];
    const run = await withRunContext(hybrid("slurm-retry", { onEvent: (e) => events.push(e) })).run(
      retried,
      7,
    );
    const out = await run.outputs();
    expect(out).toMatchObject({ x: 7, attempt: 1 });
    const attempts = attemptsOf(events, "slurm-work.flaky");
    expect(attempts.map((a) => [a.attempt, a.error?.message, a.lane])).toEqual([
      [0, "first attempt of flaky(7) fails", `slurm:${hostname()}`],
      [1, undefined, `slurm:${hostname()}`],
    ]);
    const scripts = filesUnder(join(scratch, "emit", "slurm-retry"), ".sbatch").map((f) =>
      f.split("/").at(-1),
    );
    expect(scripts.sort()).toEqual(["job-attempt-0.sbatch", "job-attempt-1.sbatch"]);
    // The first attempt's job failed (its task threw), the second is the one that succeeded.
    const first = readFileSync(
      filesUnder(join(scratch, "emit", "slurm-retry"), "job-attempt-0.sbatch")[0] as string,
      "utf8",
    );
    expect(first).toContain("--attempt 0");
    expect(await jobState(out.job as string)).toBe("COMPLETED");
  });

  test("maxRuntime cancels the job of an attempt that runs too long", async () => {
    const started = Date.now();
    const attempt = withRunContext(hybrid("slurm-timeout")).run(times, 300);
    await expect(attempt).rejects.toBeInstanceOf(errors.TaskTimeoutError);
    await expect(attempt).rejects.toThrow(/ran past its maxRuntime of 4\.0s/);
    // Stopped at its 4 s, far before its 300 s sleep ended.
    expect(Date.now() - started).toBeLessThan(120_000);
    await until("the job to leave the queue", async () =>
      (await liveJobs("flyte-slurm-timeout")).length === 0 ? true : undefined,
    );
  });

  test("maxQueuedTime cancels a job still pending in Slurm's queue", async () => {
    const events: RunEvent[] = [];
    const attempt = withRunContext(hybrid("slurm-queued", { onEvent: (e) => events.push(e) })).run(
      waits,
    );
    await expect(attempt).rejects.toBeInstanceOf(errors.TaskTimeoutError);
    await expect(attempt).rejects.toThrow(
      /waited in Slurm's queue \(job \d+\) longer than its maxQueuedTime of 3\.0s; the job was cancelled/,
    );
    const job = /\(job (\d+)\)/.exec(
      attemptsOf(events, "slurm-held.held")[0]?.error?.message ?? "",
    )?.[1];
    expect(
      await until("the held job to be cancelled", () =>
        jobState(job as string).then((s) => (s === "CANCELLED" ? s : undefined)),
      ),
    ).toBe("CANCELLED");
  });

  test("a remote run offloads its root as one job; its sub-tasks run inside that job", async () => {
    const run = await withRunContext({
      ...hybrid("slurm-remote"),
      mode: "remote",
      offload: new Slurm({ partition: "debug" }),
    }).run(driver, 3);
    const out = await run.outputs();
    expect(out).toMatchObject({
      value: 30,
      tokenLength: token.length,
      greeting: "hello-from-env-vars",
    });
    expect(out.driverPid).not.toBe(process.pid);
    expect(await jobState(out.job as string)).toBe("COMPLETED");
  });

  test("a map of 20 is one job array throttled to the map's concurrency", async () => {
    const run = await withRunContext(hybrid("slurm-map")).run(squares, 20, 4);
    const out = await run.outputs();
    expect(out.map((r) => r.square)).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    expect(new Set(out.map((r) => r.arrayJob)).size).toBe(1);
    expect(out.map((r) => r.index)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    const scripts = filesUnder(join(scratch, "emit", "slurm-map"), ".sbatch");
    expect(scripts).toHaveLength(1);
    expect(readFileSync(scripts[0] as string, "utf8")).toContain("#SBATCH --array=0-19%4\n");
  });

  test("cancelling the run cancels its jobs and leaves squeue empty", async () => {
    const cancel = new AbortController();
    let jobStarted: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      jobStarted = resolve;
    });
    const attempt = withRunContext(
      hybrid("slurm-cancel", {
        signal: cancel.signal,
        onLog: (entry) => {
          if (entry.text.includes("endless started")) jobStarted();
        },
      }),
    ).run(hangs, 300);
    attempt.catch(() => {});
    await running;
    expect(await liveJobs("flyte-slurm-cancel")).toEqual([expect.stringMatching(/\|RUNNING$/)]);
    cancel.abort();
    await expect(attempt).rejects.toBeInstanceOf(errors.RunCancelledError);
    await until("squeue to have none of the run's jobs", async () =>
      (await liveJobs("flyte-slurm-cancel")).length === 0 ? true : undefined,
    );
  });

  test("a GPU request becomes --gres=gpu:<type>:N and the job gets the GPU", async () => {
    const run = await withRunContext(hybrid("slurm-gpu")).run(usesGpu);
    expect(await run.outputs()).toEqual({ gpusOnNode: "1" });
    const [script] = filesUnder(join(scratch, "emit", "slurm-gpu"), ".sbatch");
    expect(readFileSync(script as string, "utf8")).toContain("#SBATCH --gres=gpu:fake:1\n");
  });

  test("a job Slurm refuses fails the attempt at once with Slurm's reason", async () => {
    const nowhere = new TaskEnvironment({
      name: "slurm-nowhere",
      offload: new Slurm({ partition: "no-such-partition" }),
      runtime: "inline",
    });
    const lost = nowhere.task(async function lost() {
      return 1;
    });
    const attempt = withRunContext(hybrid("slurm-refused", { mode: "remote" })).run(lost);
    await expect(attempt).rejects.toBeInstanceOf(errors.DeploymentError);
    await expect(attempt).rejects.toThrow(/Slurm refused .*Invalid partition name specified/);
  });

  test("a dry run writes the root action's batch script, which sbatch runs as it is", async () => {
    const out = join(scratch, "dry");
    const run = await withRunContext({
      dryRun: true,
      name: "slurm-dry",
      offload: "slurm",
      copyBundleTo: out,
      cacheDir: join(scratch, "home"),
    }).run(driver, 2);
    expect(run.url).toBe(out);
    const script = join(out, "actions", "a0", "job.sbatch");
    expect(readFileSync(script, "utf8")).toMatch(/--task slurm-here.driver$/m);
  });
});

describe.runIf(slurm.up)("the README's Slurm example", () => {
  test("runs on a login node: sbatch on this host", async () => {
    const home = join(scratch, "example-here");
    const r = await runNode(
      ["--import", "tsx", "examples/slurm.ts"],
      { FLYTE_TS_HOME: home },
      180_000,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /^seed 1: \d+ \(on this host\)\nseed 2: \d+ \(on this host\)\nseed 3: \d+ \(on this host\)\n$/,
    );
  });

  test("runs over SSH: sbatch on the login host, the job's variables inside the SSH session", async () => {
    const home = join(scratch, "example-ssh");
    const bin = join(scratch, "ssh-bin");
    await mkdir(bin, { recursive: true });
    await symlink(fakeSsh, join(bin, "ssh")).catch(() => {});
    const log = join(scratch, "ssh.log");
    const r = await runNode(
      ["--import", "tsx", "examples/slurm.ts"],
      {
        FLYTE_TS_HOME: home,
        FLYTE_TS_SLURM_HOST: "login.example.edu",
        FAKE_SSH_LOG: log,
        PATH: `${bin}${delimiter}${process.env.PATH}`,
      },
      180_000,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^seed 1: \d+ \(on this host\)\n/);
    const calls = readFileSync(log, "utf8");
    expect(calls).toMatch(/-o BatchMode=yes login\.example\.edu sh -s/);
    // The variable's value went inside the session, never onto ssh's command line.
    expect(calls).not.toContain("1000");
  });
});
