// Talking to Slurm without a cluster: stand-in `sbatch` and `ssh` programs, recorded squeue
// output, and a manual clock for the watcher's backoff and the gathering of job arrays.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Slurm } from "../../../src/api/slurm.js";
import type { MapItem } from "../../../src/context/context.js";
import { DeploymentError, isRetryable, RuntimeSystemError } from "../../../src/errors.js";
import { ManualClock } from "../../../src/internal/time.js";
import { ArrayGatherer, arrayQuietMs } from "../../../src/offload/slurm-array.js";
import { LogTail, neverRuns } from "../../../src/offload/slurm-outcome.js";
import {
  type CommandResult,
  parseSqueue,
  type SlurmCommands,
  sbatch,
  slurmCommands,
  squeue,
} from "../../../src/offload/slurm-submit.js";
import { SlurmWatcher } from "../../../src/offload/slurm-watch.js";

const fakeSsh = new URL("../../fixtures/slurm/fake-ssh.sh", import.meta.url).pathname;
let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), "flyte-ts-fake-slurm-"));
  // A stand-in sbatch: keeps its input and environment, answers as told.
  await writeFile(
    join(bin, "sbatch"),
    [
      "#!/bin/sh",
      'cat >"$FAKE_DIR/script"',
      'env >"$FAKE_DIR/env"',
      'printf "%s" "$FAKE_STDERR" >&2',
      'printf "%s" "$FAKE_STDOUT"',
      '[ -n "$FAKE_CODE" ] || FAKE_CODE=0',
      'exit "$FAKE_CODE"',
      "",
    ].join("\n"),
  );
  await chmod(join(bin, "sbatch"), 0o755);
});

afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

function here(env: Record<string, string>) {
  return slurmCommands(new Slurm(), { PATH: `${bin}:/usr/bin:/bin`, FAKE_DIR: bin, ...env });
}

describe("sbatch", () => {
  it("passes the script on stdin and the job's variables in sbatch's environment, and reads the job id", async () => {
    const commands = here({ FAKE_STDOUT: "4242;cluster\n" });
    const id = await sbatch(
      commands,
      new Slurm(),
      "#!/bin/bash\necho hi\n",
      { TOKEN_X: "v-1" },
      "Task `t`",
    );
    expect(id).toBe("4242");
    expect(await readFile(join(bin, "script"), "utf8")).toBe("#!/bin/bash\necho hi\n");
    expect(await readFile(join(bin, "env"), "utf8")).toContain("TOKEN_X=v-1\n");
  });

  it("says sbatch is missing, and how to configure the cluster, when it is not on the PATH", async () => {
    const commands = slurmCommands(new Slurm(), { PATH: "/nonexistent" });
    const error = await sbatch(
      commands,
      new Slurm(),
      "#!/bin/bash\n",
      {},
      "Task `t` (action a1)",
    ).catch((e) => e);
    expect(error).toBeInstanceOf(DeploymentError);
    expect(error.code).toBe("NoSbatch");
    expect(error.message).toMatch(
      /Task `t` \(action a1\) must run on Slurm, but `sbatch` is not on this host's PATH/,
    );
    expect(error.message).toMatch(/offload: new flyte.Slurm\(\{ host: "login.example.edu" \}\)/);
    expect(isRetryable(error)).toBe(false);
  });

  it("carries Slurm's reason when it refuses the job, and says when no cluster answers", async () => {
    const refused = here({
      FAKE_CODE: "1",
      FAKE_STDERR:
        "sbatch: error: invalid partition specified: gpu\nsbatch: error: Batch job submission failed: Invalid partition name specified\n",
    });
    const error = await sbatch(refused, new Slurm(), "x", {}, "Task `t`").catch((e) => e);
    expect(error.code).toBe("SlurmRefused");
    expect(error.message).toBe(
      "Slurm refused Task `t`: invalid partition specified: gpu Batch job submission failed: Invalid partition name specified. " +
        "Check the partition, account, qos and sbatchOptions of flyte.Slurm and the task's Resources against `sinfo`.",
    );
    const down = here({
      FAKE_CODE: "1",
      FAKE_STDERR:
        "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
    });
    const unreachable = await sbatch(down, new Slurm(), "x", {}, "Task `t`").catch((e) => e);
    expect(unreachable.code).toBe("SlurmUnreachable");
    expect(unreachable.message).toMatch(
      /no cluster could be reached from this host: .*Unable to contact slurm controller/,
    );
  });

  it("over SSH: runs the command on the login host with the variables inside the session, not on a command line", async () => {
    const log = join(bin, "ssh.log");
    const cluster = new Slurm({
      host: "login.example.edu",
      username: "ada",
      port: 2222,
      ssh: fakeSsh,
    });
    const commands = slurmCommands(cluster, { PATH: "/usr/bin:/bin", FAKE_SSH_LOG: log });
    const printed = await commands.run(["sh", "-c", 'printf "%s|%s" "$SECRET_ISH" "$(cat)"'], {
      env: { SECRET_ISH: "it's $quoted" },
      input: "line one\nline two\n",
    });
    expect(printed).toEqual({ code: 0, stdout: "it's $quoted|line one\nline two", stderr: "" });
    const calls = await readFile(log, "utf8");
    expect(calls).toBe("-o BatchMode=yes -p 2222 -l ada login.example.edu sh -s\n");
  });

  it("over SSH: a login host that cannot be reached is a DeploymentError saying what to check", async () => {
    const cluster = new Slurm({ host: "unreachable.invalid", ssh: fakeSsh });
    const error = await sbatch(
      slurmCommands(cluster, { PATH: "/usr/bin:/bin" }),
      cluster,
      "x",
      {},
      "Task `t`",
    ).catch((e) => e);
    expect(error.code).toBe("SlurmUnreachable");
    expect(error.message).toMatch(
      /from unreachable.invalid over SSH: ssh: Could not resolve hostname/,
    );
    expect(error.message).toMatch(/Check that `ssh unreachable.invalid` works without a prompt/);
    const noSsh = new Slurm({ host: "login", ssh: "/nonexistent/ssh" });
    const missing = await sbatch(slurmCommands(noSsh), noSsh, "x", {}, "Task `t`").catch((e) => e);
    expect(missing.code).toBe("NoSbatch");
    expect(missing.message).toMatch(/the ssh program "\/nonexistent\/ssh" was not found here/);
  });
});

describe("squeue", () => {
  it("parses states, reasons and nodes, without Slurm's decorations", () => {
    expect(
      parseSqueue(
        "12|RUNNING|None|node-1\n13_2|PENDING|JobArrayTaskLimit|\n14|CANCELLED by 0|None|n2\n",
      ),
    ).toEqual([
      { id: "12", state: "RUNNING", reason: undefined, node: "node-1" },
      { id: "13_2", state: "PENDING", reason: "JobArrayTaskLimit", node: undefined },
      { id: "14", state: "CANCELLED", reason: undefined, node: "n2" },
    ]);
  });

  it("asks once for every job, and treats jobs Slurm has forgotten as gone", async () => {
    const asked: string[][] = [];
    const commands: SlurmCommands = {
      where: "test",
      run: async (argv) => {
        asked.push([...argv]);
        return { code: 1, stdout: "", stderr: "slurm_load_jobs error: Invalid job id specified" };
      },
    };
    expect((await squeue(commands, ["7_1", "7_2", "9"])).size).toBe(0);
    expect(asked).toEqual([
      ["squeue", "--noheader", "--states=all", "--array", "--format=%i|%T|%r|%N", "--jobs=7,9"],
    ]);
    const failing: SlurmCommands = {
      where: "test",
      run: async () => ({ code: 1, stdout: "", stderr: "squeue: error: Socket timed out" }),
    };
    await expect(squeue(failing, ["1"])).rejects.toBeInstanceOf(RuntimeSystemError);
  });

  it("knows the pending reasons a job never leaves", () => {
    for (const reason of [
      "PartitionConfig",
      "BadConstraints",
      "QOSMaxWallDurationPerJobLimit",
      "InvalidAccount",
    ]) {
      expect(neverRuns(reason)).toBe(true);
    }
    for (const reason of [
      "Resources",
      "Priority",
      "JobArrayTaskLimit",
      "QOSGrpCpuLimit",
      undefined,
    ]) {
      expect(neverRuns(reason)).toBe(false);
    }
  });
});

describe("SlurmWatcher", () => {
  it("polls quickly while states change, backs off while they do not, and reports jobs Slurm forgot", async () => {
    const clock = new ManualClock();
    const answers: string[] = [
      "5|PENDING|Resources|",
      "5|RUNNING|None|n1",
      "5|RUNNING|None|n1",
      "5|RUNNING|None|n1",
      "",
    ];
    const commands: SlurmCommands = {
      where: "test",
      run: async (): Promise<CommandResult> => ({
        code: 0,
        stdout: answers.shift() ?? "",
        stderr: "",
      }),
    };
    const watcher = new SlurmWatcher(commands, clock, { minMs: 100, maxMs: 400, factor: 2 });
    const heard: (string | undefined)[] = [];
    let gone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gone = resolve;
    });
    const stop = watcher.watch("5", (state) => {
      heard.push(state?.state);
      if (state === undefined) gone();
    });
    const delays: number[] = [];
    while (heard.at(-1) !== undefined || heard.length === 0) {
      const delay = await clock.nextTimer();
      delays.push(delay);
      clock.advance(delay);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
    stop();
    expect(heard).toEqual(["PENDING", "RUNNING", "RUNNING", "RUNNING", undefined]);
    // Changes keep the first delay; quiet ticks double it, up to the most.
    expect(delays).toEqual([100, 100, 100, 200, 400]);
    expect(clock.pending).toEqual([]);
  });
});

describe("ArrayGatherer", () => {
  const item = (index: number, count = 3): MapItem => ({ map: "m", index, count, concurrency: 2 });

  it("submits a map's items together once all have arrived, in index order", async () => {
    const submitted: number[][] = [];
    const gatherer = new ArrayGatherer<number, string>(new ManualClock(), async (values) => {
      submitted.push([...values]);
      return values.map((v) => `job_${v}`);
    });
    const signal = new AbortController().signal;
    const jobs = Promise.all([2, 0, 1].map((i) => gatherer.add(item(i), i * 10, signal)));
    expect(await jobs).toEqual(["job_20", "job_0", "job_10"]);
    expect(submitted).toEqual([[0, 10, 20]]);
  });

  it("submits the items that came after a quiet moment when the rest never come (cache hits)", async () => {
    const clock = new ManualClock();
    const submitted: number[][] = [];
    const gatherer = new ArrayGatherer<number, string>(clock, async (values) => {
      submitted.push([...values]);
      return values.map(String);
    });
    const signal = new AbortController().signal;
    const first = gatherer.add(item(0), 0, signal);
    const second = gatherer.add(item(2), 2, signal);
    expect(await clock.nextTimer()).toBe(arrayQuietMs);
    clock.advance(arrayQuietMs);
    expect(await Promise.all([first, second])).toEqual(["0", "2"]);
    expect(submitted).toEqual([[0, 2]]);
  });

  it("takes an item out when its attempt is aborted while it waits", async () => {
    const clock = new ManualClock();
    const submitted: number[][] = [];
    const gatherer = new ArrayGatherer<number, string>(clock, async (values) => {
      submitted.push([...values]);
      return values.map(String);
    });
    const abort = new AbortController();
    const kept = gatherer.add(item(0), 0, new AbortController().signal);
    const dropped = gatherer.add(item(1), 1, abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(dropped).rejects.toThrow("cancelled");
    clock.advance(arrayQuietMs);
    expect(await kept).toBe("0");
    expect(submitted).toEqual([[0]]);
  });
});

describe("LogTail", () => {
  it("hands on what a file gained since the last read, keeping a split character whole", async () => {
    const file = join(bin, "job.out");
    const pieces: string[] = [];
    const tail = new LogTail(file, (text) => pieces.push(text));
    await tail.read();
    const euro = Buffer.from("€", "utf8");
    await writeFile(file, Buffer.concat([Buffer.from("price: "), euro.subarray(0, 1)]));
    await tail.read();
    await writeFile(file, Buffer.concat([Buffer.from("price: "), euro, Buffer.from(" 3\n")]));
    await tail.read();
    await tail.read();
    expect(pieces).toEqual(["price: ", "€ 3\n"]);
  });
});
