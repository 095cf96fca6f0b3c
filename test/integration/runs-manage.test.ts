// Runs you can manage, through the real bin: names that never merge, run options on the command
// line, died runs, `runs cancel` from another process, `runs ls` filters, `rm`, `prune`, `status`,
// and Ctrl-C in a flyte.main program.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, ensureBuilt, repoRoot, runCli, runNode } from "../fixtures/cli/cli-process.js";

const tasks = "test/fixtures/cli/manage.ts";
let root: string;

beforeAll(async () => {
  await ensureBuilt();
  root = await mkdtemp(join(tmpdir(), "flyte-ts-runs-manage-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A `.flyte` folder of its own and the CLI bound to it. */
async function home(name: string) {
  const dir = join(root, name);
  const cli = (...args: string[]) => runCli(args, { FLYTE_TS_HOME: dir });
  return { dir, cli };
}

/** Starts a process in the repository root; `exited` resolves with its exit code. */
function start(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: "pipe",
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  started.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Processes started by the tests, ended after each file even when an assertion failed first. */
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Resolves once `path` exists (the test's own timeout is the hang guard). */
async function appears(path: string): Promise<void> {
  while (!existsSync(path)) await delay(25);
}

describe("run names", () => {
  it("refuses to merge a second run into a stored name, pointing to --resume and --replace", async () => {
    const { cli, dir } = await home("names");
    const first = await cli("run", "--name", "exp", "--quiet", tasks, "envOf", "--key", "HOME");
    expect(first.code).toBe(0);
    const again = await cli("run", "--name", "exp", "--quiet", tasks, "envOf", "--key", "HOME");
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/A run named "exp" is already stored .*run names never merge/);
    expect(again.stderr).toMatch(/--resume exp/);
    expect(again.stderr).toMatch(/--replace/);
    const replaced = await cli(
      "run",
      "--name",
      "exp",
      "--replace",
      "--quiet",
      tasks,
      "envOf",
      "--key",
      "USER",
    );
    expect(replaced.code).toBe(0);
    const shown = JSON.parse((await cli("runs", "show", "exp", "--json")).stdout);
    expect(shown.actions).toHaveLength(1);
    // No empty raw-data folder is left behind by a run that wrote nothing there.
    expect(existsSync(join(dir, "raw"))).toBe(false);
  });
});

describe("run options on the command line", () => {
  it("passes --env to pooled tasks and refuses device pinning variables", async () => {
    const { cli } = await home("env");
    const r = await cli(
      "run",
      "--quiet",
      "--env",
      "FLYTE_README=yes",
      tasks,
      "envOf",
      "--key",
      "FLYTE_README",
    );
    expect(r).toMatchObject({ code: 0, stdout: "yes\n" });
    const refused = await cli(
      "run",
      "--env",
      "CUDA_VISIBLE_DEVICES=0",
      tasks,
      "envOf",
      "--key",
      "X",
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/CUDA_VISIBLE_DEVICES is set per attempt by the scheduler/);
  });

  it("skips cache reads with --overwrite-cache or FLYTE_TS_OVERWRITE_CACHE=1, and the cache with --disable-run-cache", async () => {
    const { cli, dir } = await home("cache");
    const log = join(dir, "executions.log");
    const call = (...extra: string[]) =>
      cli("run", "--quiet", ...extra, tasks, "counted", "--log", log, "--x", "3");
    expect((await call()).stdout).toBe("6\n");
    await call(); // a hit: no execution
    await call("--overwrite-cache");
    const viaEnv = await runCli(["run", "--quiet", tasks, "counted", "--log", log, "--x", "3"], {
      FLYTE_TS_HOME: dir,
      FLYTE_TS_OVERWRITE_CACHE: "1",
    });
    expect(viaEnv.code).toBe(0);
    await call("--disable-run-cache");
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(4);
  });

  it("emits without running for --dry-run, and refuses an unknown mode with a usage error", async () => {
    const { cli, dir } = await home("dry");
    const r = await cli("run", "--dry-run", "--name", "dry", tasks, "envOf", "--key", "X");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Dry run: emitted .* nothing ran/);
    expect(await readdir(join(dir, "offload", "dry", "actions", "a0"))).toContain("job.yaml");
    expect(existsSync(join(dir, "runs.db"))).toBe(false);
    const mode = await cli("run", "--mode", "cloud", tasks, "envOf", "--key", "X");
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/Expected `mode` to be "local", "remote" or "hybrid", got "cloud"/);
    const typo = await cli("run", "--dryrun", tasks, "envOf", "--key", "X");
    expect(typo.stderr).toMatch(/Unknown option --dryrun\. Did you mean `--dry-run`\?/);
  });
});

describe("live and died runs", () => {
  it("shows a run whose process was killed as died, and lets it be removed", async () => {
    const { cli, dir } = await home("died");
    const marker = join(dir, "held");
    const run = start(
      [binPath, "run", "--name", "doomed", "--quiet", tasks, "hold", "--marker", marker],
      {
        FLYTE_TS_HOME: dir,
      },
    );
    await appears(marker);
    run.child.kill("SIGKILL");
    await run.exited;
    const ls = JSON.parse((await cli("runs", "ls", "--status", "died", "--json")).stdout);
    expect(ls.map((r: { name: string }) => r.name)).toEqual(["doomed"]);
    const show = await cli("runs", "show", "doomed");
    expect(show.stdout).toMatch(/status: {3}died — recorded as running, but its process \(pid \d+/);
    const status = await cli("status");
    expect(status.stdout).toMatch(/Died \(recorded as running, process gone\): doomed/);
    expect((await cli("runs", "rm", "doomed")).stdout).toBe("Removed 1 run: doomed.\n");
    expect((await cli("runs", "ls")).stdout).toBe("No runs match.\n");
  });

  it("cancels a run from another process: the owner notices, records it cancelled and exits 130", async () => {
    const { cli, dir } = await home("cancel");
    const marker = join(dir, "held");
    const run = start(
      [binPath, "run", "--name", "long", "--quiet", tasks, "twoOnOneGpu", "--marker", marker],
      { FLYTE_TS_HOME: dir, FLYTE_TS_FAKE_DEVICES: "H100:1" },
    );
    await appears(`${marker}-0`);
    // The owner publishes what it holds every 250 ms: wait for the body's lease to show.
    let status = { stdout: "" };
    for (let tries = 0; tries < 40 && !/held 1 · free 0/.test(status.stdout); tries++) {
      status = await runCli(["status"], { FLYTE_TS_HOME: dir, FLYTE_TS_FAKE_DEVICES: "H100:1" });
    }
    expect(status.stdout).toMatch(/Devices {2}1 x NVIDIA H100.* · held 1 · free 0/);
    expect(status.stdout).toMatch(
      /long\s+manage\.twoOnOneGpu\s+\d+\s+\S+\s+\d+\s+\d+\s+1 × 1 x H100/,
    );
    const cancel = await cli("runs", "cancel", "long");
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/Run "long" cancelled\./);
    expect(await run.exited).toBe(130);
    expect(run.output().stderr).toMatch(
      /cancelled from another terminal \(`flyte-ts runs cancel long`/,
    );
    const ls = JSON.parse((await cli("runs", "ls", "--json")).stdout);
    expect(ls[0]).toMatchObject({ name: "long", status: "cancelled" });
    const again = await cli("runs", "cancel", "long");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not running \(it cancelled\)/);
  });
});

describe("runs ls, rm and prune", () => {
  it("filters by status, time and count, shows durations, and prunes old runs", async () => {
    const { cli } = await home("list");
    for (const name of ["one", "two", "three"]) {
      const r = await cli("run", "--name", name, "--quiet", tasks, "envOf", "--key", "HOME");
      expect(r.code).toBe(0);
    }
    const table = (await cli("runs", "ls")).stdout;
    expect(table).toMatch(/^NAME\s+TASK\s+STATUS\s+ACTIONS\s+STARTED\s+DURATION$/m);
    expect(table).toMatch(/^three\s+manage\.envOf\s+succeeded\s+1\s+\S+\s+\d/m);
    const limited = JSON.parse((await cli("runs", "ls", "--limit", "2", "--json")).stdout);
    expect(limited.map((r: { name: string }) => r.name)).toEqual(["three", "two"]);
    expect((await cli("runs", "ls", "--status", "failed")).stdout).toBe("No runs match.\n");
    expect(JSON.parse((await cli("runs", "ls", "--since", "1h", "--json")).stdout)).toHaveLength(3);
    expect((await cli("runs", "ls", "--since", "2999-01-01")).stdout).toBe("No runs match.\n");
    const badStatus = await cli("runs", "ls", "--status", "faild");
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/Did you mean `failed`\?/);
    const missing = await cli("runs", "rm", "thre");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/There is no run "thre".*Did you mean `three`\?/);
    expect((await cli("runs", "prune", "--older-than", "1h")).stdout).toBe("Removed 0 runs.\n");
    expect((await cli("runs", "prune", "--older-than", "0s")).stdout).toBe("Removed 3 runs.\n");
  });
});

describe("small refusals", () => {
  it("refuses logs of an action the run does not have, and clearing a task with no entries", async () => {
    const { cli } = await home("small");
    await cli("run", "--name", "r", "--quiet", tasks, "envOf", "--key", "HOME");
    const logs = await cli("runs", "logs", "r", "nosuch");
    expect(logs.code).toBe(2);
    expect(logs.stderr).toMatch(/Run `r` has no action `nosuch`/);
    const clear = await cli("cache", "clear", "--task", "nosuch");
    expect(clear.code).toBe(2);
    expect(clear.stderr).toMatch(/No cache entries for task `nosuch`/);
  });

  it("reports an unreadable FLYTE_TS_FAKE_DEVICES in one message, without a stack", async () => {
    const r = await runCli(["devices"], { FLYTE_TS_FAKE_DEVICES: "bogus::" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flyte-ts: Invalid FLYTE_TS_FAKE_DEVICES/);
    expect(r.stderr).toMatch(/Fix FLYTE_TS_FAKE_DEVICES/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("programs", () => {
  it("cancel their run on Ctrl-C in flyte.main, say so, record it cancelled and exit 130", async () => {
    const { cli, dir } = await home("interrupt");
    const marker = join(dir, "held");
    const program = start(
      ["--import", "tsx", "test/fixtures/cli/interrupt-program.ts", marker, "ctrl-c"],
      { FLYTE_TS_HOME: dir },
    );
    await appears(marker);
    program.child.kill("SIGINT");
    expect(await program.exited).toBe(130);
    const { stderr } = program.output();
    expect(stderr).toMatch(/Interrupted \(Ctrl-C\): cancelling run "ctrl-c"/);
    // progress: "plain" shows the live view and its summary, as the CLI does.
    expect(stderr).toMatch(/^⊘ run ctrl-c cancelled in .* · 1 action: 1 cancelled/m);
    expect(stderr).toMatch(/^Run "ctrl-c" was cancelled by Ctrl-C \(SIGINT\)\.$/m);
    const ls = JSON.parse((await cli("runs", "ls", "--json")).stdout);
    expect(ls[0]).toMatchObject({ name: "ctrl-c", status: "cancelled" });
  });

  it("run a README-style program without a name twice without merging", async () => {
    const { dir } = await home("unnamed");
    const script =
      "import('flyte-ts').then(async (f) => { const { envOf } = await import('./test/fixtures/cli/manage.ts'); const r = await f.run(envOf, 'HOME'); console.log(r.name); })";
    const names = [];
    for (let i = 0; i < 2; i++) {
      const r = await runNode(["--import", "tsx", "-e", script], { FLYTE_TS_HOME: dir });
      expect(r.code).toBe(0);
      names.push(r.stdout.trim());
    }
    expect(new Set(names).size).toBe(2);
  });
});
