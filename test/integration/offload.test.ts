// Offload end to end: emit an action as a Kubernetes Job, then run the exact command line of the
// Job's container as a local subprocess against local folders, as the pod would.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { errors, RunContext, withRunContext } from "flyte-ts";
import { Job } from "kubernetes-models/batch/v1";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { ERROR_FILE, readResult } from "../../src/offload/io.js";
import { LocalScheduler } from "../../src/scheduler/local-scheduler.js";
import {
  binPath,
  ensureBuilt,
  type Finished,
  repoRoot,
  runCli,
  runNode,
} from "../fixtures/cli/cli-process.js";
import { driver, explode, hugeDriver, main } from "../fixtures/offload/app.js";
import { secretDriver, usesClusterSecret } from "../fixtures/offload/secrets.js";

let scratch: string;
let binDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flyte-ts-offload-"));
  // The container finds `flyte-ts` on its PATH (node_modules/.bin); here a link to the bin does.
  binDir = join(scratch, "bin");
  await mkdir(binDir);
  await symlink(binPath, join(binDir, "flyte-ts"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface EmittedJob {
  job: Record<string, unknown>;
  argv: string[];
}

function readJob(file: string): EmittedJob {
  const job = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const spec = job.spec as {
    template: { spec: { containers: { command: string[]; args: string[] }[] } };
  };
  const container = spec.template.spec.containers[0];
  if (container === undefined) throw new Error(`${file} has no container`);
  return { job, argv: [...container.command, ...container.args] };
}

/** Runs the container's command line in `cwd` (the container's working directory). */
function runContainerCommand(argv: readonly string[], cwd: string): Promise<Finished> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    execFile(
      command as string,
      args,
      {
        cwd,
        env: { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH}`, NO_COLOR: "1" },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function flag(argv: readonly string[], name: string): string {
  const value = argv[argv.indexOf(name) + 1];
  if (value === undefined) throw new Error(`no ${name} in ${argv.join(" ")}`);
  return value;
}

describe("a dry run", () => {
  test("emits the root action's Dockerfile, build context, job.yaml, inputs and bundle, and runs nothing", async () => {
    const out = join(scratch, "dry");
    const run = await withRunContext({
      dryRun: true,
      name: "dry-main",
      copyBundleTo: out,
      cacheDir: join(scratch, "home"),
      customContext: { team: "ml" },
    }).run(main, 4);
    expect(run.url).toBe(out);
    expect(await run.outputs()).toBeUndefined();
    const { job, argv } = readJob(join(out, "actions", "a0", "job.yaml"));
    expect(() => new Job(job as never).validate()).not.toThrow();
    const dockerfile = readFileSync(join(out, "images", "offload-fixture", "Dockerfile"), "utf8");
    const from = DockerfileParser.parse(dockerfile).getFROMs()[0];
    expect(from?.getImageName()).toBe("node");
    expect(existsSync(join(out, "images", "offload-fixture", "files", "package-lock.json"))).toBe(
      true,
    );
    expect(readdirSync(out).filter((f) => f.endsWith(".tgz"))).toEqual([
      expect.stringMatching(/^bundle-[0-9a-f]{16}\.tgz$/),
    ]);
    expect(argv.slice(0, 2)).toEqual(["flyte-ts", "execute"]);
    expect(flag(argv, "--inputs")).toBe(join(out, "actions", "a0", "inputs.v8"));
    expect(flag(argv, "--module")).toBe("test/fixtures/offload/app.ts");
    expect(flag(argv, "--task")).toBe("offload-fixture.main");
    expect(flag(argv, "--version")).toBe(/bundle-([0-9a-f]{16})/.exec(flag(argv, "--tgz"))?.[1]);
    // Nothing ran: no outputs yet, and no run record.
    expect(existsSync(flag(argv, "--outputs-path"))).toBe(false);
  });

  test("its Job's command, run as a subprocess, executes the task from the bundle and writes its outputs", async () => {
    const out = join(scratch, "dry-exec");
    await withRunContext({
      dryRun: true,
      name: "exec-main",
      copyBundleTo: out,
      cacheDir: join(scratch, "home"),
      customContext: { team: "ml" },
    }).run(main, 4);
    const { argv } = readJob(join(out, "actions", "a0", "job.yaml"));
    const container = await mkdtemp(join(scratch, "container-"));
    const finished = await runContainerCommand(argv, container);
    expect(finished).toMatchObject({ code: 0, stderr: "" });
    // The bundle was unpacked into the container's working directory.
    expect(existsSync(join(container, "test", "fixtures", "offload", "helper.ts"))).toBe(true);
    const outputs = await readResult(flag(argv, "--outputs-path"));
    // squares of 0..3 plus offset 1 each: 0+1+4+9 + 4.
    expect(outputs).toEqual({
      total: 18,
      seen: new Map([["n", 4]]),
      team: "ml",
      run: "exec-main",
    });
  });

  test("a failing task's command exits 1 and writes an error file with code, kind, message and stack", async () => {
    const out = join(scratch, "dry-fail");
    await withRunContext({
      dryRun: true,
      name: "exec-fail",
      copyBundleTo: out,
      cacheDir: join(scratch, "home"),
    }).run(explode, "project demo");
    const { argv } = readJob(join(out, "actions", "a0", "job.yaml"));
    const container = await mkdtemp(join(scratch, "container-"));
    const finished = await runContainerCommand(argv, container);
    expect(finished.code).toBe(1);
    const outputsPath = flag(argv, "--outputs-path");
    const written = JSON.parse(await readFile(join(outputsPath, ERROR_FILE), "utf8"));
    expect(written).toMatchObject({
      code: "QuotaError",
      kind: "user",
      message: expect.stringContaining("quota exceeded: project demo"),
      stack: expect.stringContaining("explode"),
    });
    const error = await readResult(outputsPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.RuntimeUserError);
    expect((error as errors.RuntimeUserError).code).toBe("QuotaError");
  });

  test("with interactiveMode ships the entry module bundled into one ES module, which the Job runs", async () => {
    const out = join(scratch, "dry-interactive");
    await withRunContext({
      dryRun: true,
      interactiveMode: true,
      name: "exec-interactive",
      copyBundleTo: out,
      cacheDir: join(scratch, "home"),
      customContext: { team: "ml" },
    }).run(main, 4);
    const { argv } = readJob(join(out, "actions", "a0", "job.yaml"));
    expect(flag(argv, "--module")).toBe("test/fixtures/offload/app.mjs");
    const container = await mkdtemp(join(scratch, "container-"));
    const finished = await runContainerCommand(argv, container);
    expect(finished).toMatchObject({ code: 0, stderr: "" });
    // One self-contained module, its relative import (helper.ts) inlined: no sources shipped.
    const shipped = readdirSync(container, { recursive: true }) as string[];
    expect(shipped.filter((f) => !f.startsWith(".flyte")).sort()).toEqual([
      "test",
      "test/fixtures",
      "test/fixtures/offload",
      "test/fixtures/offload/app.mjs",
    ]);
    expect(await readResult(flag(argv, "--outputs-path"))).toEqual({
      total: 18,
      seen: new Map([["n", 4]]),
      team: "ml",
      run: "exec-interactive",
    });
  });

  test("refuses interactiveMode beside copyStyle, which it would make meaningless", () => {
    expect(() => withRunContext({ interactiveMode: true, copyStyle: "all" })).toThrow(
      /`copyStyle` would do nothing/,
    );
  });

  test('refuses copyStyle "none" without a version', async () => {
    const attempt = withRunContext({
      dryRun: true,
      copyStyle: "none",
      copyBundleTo: join(scratch, "none"),
      cacheDir: join(scratch, "home"),
    }).run(main, 1);
    await expect(attempt).rejects.toThrow(errors.DeploymentError);
    await expect(attempt).rejects.toThrow(/Version must be set when copyStyle is "none"/);
  });
});

describe("a hybrid run", () => {
  test("offloads an action asking for devices this host lacks, where a local run refuses it", async () => {
    const noGpus = () =>
      new LocalScheduler({
        inventory: {
          cpus: 2,
          cpuSource: "fake",
          memoryBytes: 4 * 2 ** 30,
          memorySource: "fake",
          gpus: [],
          tpus: [],
          sources: [],
          warnings: [],
        },
      });
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(scratch, "no-such-kubeconfig");
    const options = { cacheDir: join(scratch, "home"), rawDataPath: join(scratch, "shared-huge") };
    try {
      const local = new RunContext(options, { scheduler: noGpus() }).run(hugeDriver, 2);
      await expect(local).rejects.toBeInstanceOf(errors.InsufficientResourcesError);
      const hybrid = new RunContext(
        {
          ...options,
          mode: "hybrid",
          name: "hybrid-huge",
          runBaseDir: join(scratch, "hybrid-huge"),
          copyBundleTo: join(scratch, "hybrid-huge-emit"),
        },
        { scheduler: noGpus() },
      ).run(hugeDriver, 2);
      await expect(hybrid).rejects.toThrow(
        /Task `offload-h100.huge` \(action \w+\) must run on Kubernetes/,
      );
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });

  test("without a kubeconfig fails with what was emitted, where, and the kubectl command; that Job runs", async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(scratch, "no-such-kubeconfig");
    const emitDir = join(scratch, "hybrid-emit");
    let failure: unknown;
    try {
      await withRunContext({
        mode: "hybrid",
        name: "hybrid-1",
        runBaseDir: join(scratch, "hybrid-run"),
        rawDataPath: join(scratch, "shared"),
        copyBundleTo: emitDir,
        cacheDir: join(scratch, "home"),
      }).run(driver, 3);
    } catch (error) {
      failure = error;
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
    // The root ran here; its offloaded child's error reaches it (and the run) as a errors.DeploymentError.
    expect(failure).toBeInstanceOf(errors.DeploymentError);
    const message = (failure as Error).message;
    expect(message).toMatch(/Task `offload-gpu.heavy` \(action \w+\) must run on Kubernetes/);
    expect(message).toMatch(/no kubeconfig context is configured/);
    const jobFile = /Job: {5}(\S+)/.exec(message)?.[1] as string;
    expect(message).toContain(`Submit it with: kubectl apply -f ${jobFile}`);
    expect(jobFile.startsWith(emitDir)).toBe(true);
    const { job, argv } = readJob(jobFile);
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect((job.spec as { backoffLimit: number }).backoffLimit).toBe(0);
    // Inputs and outputs live under the shared rawDataPath, where this host reads them back.
    const outputsPath = flag(argv, "--outputs-path");
    expect(outputsPath.startsWith(join(scratch, "shared", "offload"))).toBe(true);
    const container = await mkdtemp(join(scratch, "container-"));
    expect(await runContainerCommand(argv, container)).toMatchObject({ code: 0 });
    expect(await readResult(outputsPath)).toBe(30);
  });
});

describe("secrets of offloaded actions", () => {
  test.each([
    ["hybrid", secretDriver],
    ["remote", usesClusterSecret],
  ] as const)(
    "are left to the cluster in a %s run, not demanded of this host",
    async (mode, task) => {
      const previous = process.env.KUBECONFIG;
      process.env.KUBECONFIG = join(scratch, "no-such-kubeconfig");
      delete process.env.OFFLOAD_CLUSTER_ONLY_TOKEN;
      const name = `${mode}-secret`;
      let failure: unknown;
      try {
        await withRunContext({
          mode,
          name,
          runBaseDir: join(scratch, name),
          rawDataPath: join(scratch, `${name}-shared`),
          copyBundleTo: join(scratch, `${name}-emit`),
          cacheDir: join(scratch, "home"),
        }).run(task as typeof usesClusterSecret);
      } catch (error) {
        failure = error;
      } finally {
        if (previous === undefined) delete process.env.KUBECONFIG;
        else process.env.KUBECONFIG = previous;
      }
      // It got as far as emitting the Job, which reads the secret in the cluster.
      expect(failure).toBeInstanceOf(errors.DeploymentError);
      expect((failure as errors.DeploymentError).code).toBe("NoKubeconfig");
      const jobFile = /Job: {5}(\S+)/.exec((failure as Error).message)?.[1] as string;
      expect(readFileSync(jobFile, "utf8")).toContain("OFFLOAD_CLUSTER_ONLY_TOKEN");
      expect(readJob(jobFile).job).toMatchObject({ kind: "Job" });
    },
  );
});

describe("a remote run", () => {
  test("offloads the root action; without a kubeconfig it fails naming the emitted Job", async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(scratch, "no-such-kubeconfig");
    try {
      const attempt = withRunContext({
        mode: "remote",
        name: "remote-1",
        rawDataPath: join(scratch, "shared-remote"),
        copyBundleTo: join(scratch, "remote-emit"),
        cacheDir: join(scratch, "home"),
      }).run(main, 2);
      await expect(attempt).rejects.toThrow(errors.DeploymentError);
      await expect(attempt).rejects.toThrow(
        /Task `offload-fixture.main` \(action a0\) must run on Kubernetes/,
      );
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
    expect(existsSync(join(scratch, "remote-emit", "actions", "a0", "job-attempt-0.yaml"))).toBe(
      true,
    );
  });
});

describe("examples/offload.ts", () => {
  test("does a dry run that writes the root action's Job, Dockerfile, inputs and bundle", async () => {
    const home = join(scratch, "example-home");
    const r = await runNode(["--import", "tsx", "examples/offload.ts"], { FLYTE_TS_HOME: home });
    const emitted = join(home, "offload", "offload-demo");
    expect(r).toEqual({ code: 0, stdout: `emitted into ${emitted}\n`, stderr: "" });
    const { job, argv } = readJob(join(emitted, "actions", "a0", "job.yaml"));
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(flag(argv, "--task")).toBe("prep.main");
    expect(existsSync(join(emitted, "images", "prep", "Dockerfile"))).toBe(true);
  });
});

describe("the build and deploy commands", () => {
  test("flyte-ts build writes each environment's Dockerfile and context and prints its build command", async () => {
    const out = join(scratch, "build");
    const r = await runCli(["build", "test/fixtures/offload/app.ts", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^offload-fixture: flyte-ts:node\d+\n {2}context: /m);
    expect(r.stdout).toMatch(/^offload-gpu: flyte-ts:node\d+\n/m);
    expect(r.stdout).toContain("docker buildx build --platform linux/amd64,linux/arm64");
    for (const env of ["offload-fixture", "offload-gpu"]) {
      const text = readFileSync(join(out, env, "Dockerfile"), "utf8");
      expect(DockerfileParser.parse(text).getFROMs()).toHaveLength(1);
    }
    const only = await runCli(["build", "test/fixtures/offload/app.ts", "--env", "nope"]);
    expect(only.code).toBe(2);
    expect(only.stderr).toMatch(/has no environment "nope"\. It has: offload-fixture, offload-gpu/);
  });

  test("flyte-ts build --env builds that environment after the environments it dependsOn", async () => {
    const out = join(scratch, "build-order");
    const r = await runCli(["build", "examples/offload.ts", "--env", "gpu-train", "--out", out]);
    expect(r.code).toBe(0);
    const built = [...r.stdout.matchAll(/^([\w-]+): (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(built).toEqual([
      ["prep", expect.stringMatching(/^flyte-ts:node\d+$/)],
      ["gpu-train", expect.stringMatching(/^ghcr\.io\/my-org\/trainer:[0-9a-f]{32}$/)],
    ]);
    const dockerfile = readFileSync(join(out, "gpu-train", "Dockerfile"), "utf8");
    const runs = DockerfileParser.parse(dockerfile)
      .getInstructions()
      .filter((i) => i.getKeyword() === "RUN")
      .map((i) => i.getArgumentsContent());
    expect(runs).toContainEqual(
      expect.stringContaining("apt-get install -y --no-install-recommends git"),
    );
  });

  test("flyte-ts deploy --dry-run writes a valid Job for every task", async () => {
    const out = join(scratch, "deploy");
    const r = await runCli(["deploy", "--dry-run", "test/fixtures/offload/app.ts", "--out", out]);
    expect(r.code).toBe(0);
    const jobs = [
      ["offload-fixture", "square"],
      ["offload-fixture", "main"],
      ["offload-fixture", "explode"],
      ["offload-fixture", "driver"],
      ["offload-gpu", "heavy"],
    ];
    for (const [env, task] of jobs) {
      const { job, argv } = readJob(join(out, env as string, `${task}.job.yaml`));
      expect(() => new Job(job as never).validate()).not.toThrow();
      expect(flag(argv, "--inputs")).toBe("{{.input}}");
      expect(flag(argv, "--task")).toBe(`${env}.${task}`);
    }
    const refused = await runCli(["deploy", "test/fixtures/offload/app.ts"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --dry-run/);
  });

  test("flyte-ts execute says which flags are missing", async () => {
    const r = await runCli(["execute", "--inputs", "x"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --outputs-path, --run-name, --name, --module, --task/);
    expect(repoRoot).toBeTruthy();
  });
});
