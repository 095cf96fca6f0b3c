import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GPU, TPU } from "../../../src/api/devices.js";
import { Image } from "../../../src/api/image.js";
import { Resources } from "../../../src/api/resources.js";
import { Secret } from "../../../src/api/secret.js";
import { Slurm } from "../../../src/api/slurm.js";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import { DeploymentError, InvalidConfigError } from "../../../src/errors.js";
import { readInputs } from "../../../src/offload/io.js";
import {
  type BatchScriptOptions,
  batchScript,
  flyteTsBin,
  gresType,
  pyxisImage,
  sbatchOptions,
  writeSlurmDryRun,
} from "../../../src/offload/slurm.js";

const root = "/shared/project";
const hpc = new Slurm({
  partition: "gpu",
  account: "ml-lab",
  qos: "high",
  sbatchOptions: { exclusive: true, constraint: "a100" },
});

const trainEnv = new TaskEnvironment({
  name: "training",
  offload: hpc,
  resources: new Resources({
    cpu: [2.5, 4],
    memory: ["8Gi", "16Gi"],
    gpu: "A100 80G:2",
    disk: "10Gi",
  }),
  envVars: { LOG_LEVEL: "debug-level-value" },
  secrets: ["HF_TOKEN", new Secret({ key: "api-key", group: "openai" })],
});
const train = trainEnv.task({ retries: 3, timeout: "90s" }, async function train(lr: number) {
  return lr;
});

const plainEnv = new TaskEnvironment({ name: "plain", offload: "slurm" });
const plain = plainEnv.task(async function plain() {});

type ScriptOverrides = {
  -readonly [K in keyof BatchScriptOptions]?: BatchScriptOptions[K] | undefined;
};

/** A script for `train`; `node: undefined` leaves the choice of node to the cluster. */
function script(overrides: ScriptOverrides = {}): string {
  const options: ScriptOverrides = {
    template: train,
    cluster: hpc,
    runName: "exp-7",
    root,
    dataDir: "/shared/raw/exp-7/offload",
    rawDataPath: "/shared/raw/exp-7",
    items: [{ actionName: "a1b2", attempt: 2 }],
    jobName: "flyte-exp-7-a1b2",
    stdout: "/shared/raw/exp-7/offload/actions/a1b2/slurm-attempt-2.out",
    stderr: "/shared/raw/exp-7/offload/actions/a1b2/slurm-attempt-2.err",
    node: "/usr/bin/node",
    ...overrides,
  };
  if (options.node === undefined) delete options.node;
  return batchScript(options as BatchScriptOptions);
}

/** The `#SBATCH` options of a script, in order. */
function directives(text: string): string[] {
  return [...text.matchAll(/^#SBATCH (.*)$/gm)].map((m) => m[1] as string);
}

describe("sbatchOptions", () => {
  it("maps Resources, the timeout and the cluster's options to sbatch options", () => {
    expect(sbatchOptions(train, hpc)).toEqual([
      "--nodes=1",
      "--ntasks=1",
      "--partition=gpu",
      "--account=ml-lab",
      "--qos=high",
      "--cpus-per-task=3",
      "--mem=16384M",
      "--tmp=10240M",
      "--gres=gpu:a100_80g:2",
      "--time=2",
      "--exclusive",
      "--constraint=a100",
    ]);
  });

  it("asks for untyped GPUs by count, and uses the cluster's names for GPU types", () => {
    const env = new TaskEnvironment({ name: "count", resources: { gpu: 2 }, offload: "slurm" });
    const task = env.task(async function counted() {});
    expect(sbatchOptions(task, new Slurm())).toContain("--gres=gpu:2");
    const named = new Slurm({ gpuTypes: { H100: "h100_sxm" } });
    expect(gresType("H100", named)).toBe("h100_sxm");
    expect(gresType("L40s", named)).toBe("l40s");
  });

  it("refuses a MIG slice or a TPU: at definition, and for a task whose Resources were overridden", () => {
    const mig = () =>
      new TaskEnvironment({
        name: "mig",
        offload: "slurm",
        resources: { gpu: GPU("A100", 1, "1g.5gb") },
      });
    expect(mig).toThrow(InvalidConfigError);
    expect(mig).toThrow(/Slurm cannot be asked for a MIG slice \(A100 1g\.5gb\)/);
    const tpu = () =>
      new TaskEnvironment({
        name: "tpu",
        offload: "slurm",
        resources: { gpu: TPU("V5P", "2x2x1") },
      });
    expect(tpu).toThrow(/Slurm cannot be asked for a TPU \(V5P\)/);
    const overridden = plain.override({ resources: new Resources({ gpu: TPU("V6E", "1x1") }) });
    expect(() => sbatchOptions(overridden, new Slurm())).toThrow(DeploymentError);
    expect(() => sbatchOptions(overridden, new Slurm())).toThrow(
      /Offload TPU tasks to "kubernetes"/,
    );
  });
});

describe("batchScript", () => {
  it("writes one job that runs flyte-ts execute for its action and attempt in the project folder", () => {
    const project = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
    const text = script({ root: project });
    expect(text.startsWith("#!/bin/bash\n")).toBe(true);
    expect(directives(text).slice(0, 5)).toEqual([
      "--job-name=flyte-exp-7-a1b2",
      "--output=/shared/raw/exp-7/offload/actions/a1b2/slurm-attempt-2.out",
      "--error=/shared/raw/exp-7/offload/actions/a1b2/slurm-attempt-2.err",
      `--chdir=${project}`,
      "--export=ALL",
    ]);
    expect(directives(text)).not.toContainEqual(expect.stringMatching(/^--array/));
    const exec = text.split("\n").find((line) => line.startsWith("exec "));
    expect(exec).toBe(
      `exec /usr/bin/node ${flyteTsBin} execute ` +
        "--inputs /shared/raw/exp-7/offload/actions/a1b2/inputs.v8 " +
        "--outputs-path /shared/raw/exp-7/offload/actions/a1b2/outputs/attempt-2 " +
        "--raw-data-path /shared/raw/exp-7 " +
        "--checkpoint-path /shared/raw/exp-7/offload/actions/a1b2/checkpoint " +
        "--run-name exp-7 --name a1b2 --attempt 2 " +
        "--module test/unit/offload/slurm.test.ts --task training.train",
    );
  });

  it("names the environment variables and secrets the job gets, never their values", () => {
    const text = script();
    expect(text).toContain("values not written here): LOG_LEVEL");
    expect(text).toContain("HF_TOKEN, OPENAI_API_KEY");
    expect(text).not.toContain("debug-level-value");
  });

  it("writes one job array for several items, throttled with %k, the index picking the item", () => {
    const text = script({
      items: [
        { actionName: "x1", attempt: 0 },
        { actionName: "x2", attempt: 0 },
        { actionName: "x3", attempt: 1 },
      ],
      concurrency: 2,
      stdout: "/shared/raw/exp-7/offload/arrays/k/%a.out",
      stderr: "/shared/raw/exp-7/offload/arrays/k/%a.err",
    });
    expect(directives(text)).toContain("--array=0-2%2");
    expect(text).toContain("actions=(x1 x2 x3)\nattempts=(0 0 1)\n");
    expect(text).toContain(
      '--outputs-path /shared/raw/exp-7/offload/actions/"$action"/outputs/attempt-"$attempt"',
    );
    expect(text).toContain('--name "$action" --attempt "$attempt"');
    expect(
      directives(
        script({
          items: [
            { actionName: "y1", attempt: 0 },
            { actionName: "y2", attempt: 0 },
          ],
          concurrency: 0,
        }),
      ),
    ).toContain("--array=0-1");
  });

  it("quotes paths with spaces in #SBATCH lines and in the command", () => {
    const text = script({ root: "/shared/my project", stdout: "/shared/log dir/o.out" });
    expect(directives(text)).toContain('--chdir="/shared/my project"');
    expect(directives(text)).toContain('--output="/shared/log dir/o.out"');
    expect(() => script({ stdout: '/shared/bad"quote' })).toThrow(DeploymentError);
  });

  it("loads the cluster's modules, and runs in the environment's image under Apptainer or Pyxis", () => {
    const imageEnv = new TaskEnvironment({
      name: "imaged",
      offload: "slurm",
      image: Image.fromPrebuilt("ghcr.io/org/app:1.2"),
      resources: { gpu: "L4:1" },
    });
    const imaged = imageEnv.task(async function imaged() {});
    const apptainer = script({
      template: imaged,
      cluster: new Slurm({ container: "apptainer", modules: ["apptainer", "cuda/12.2"] }),
      node: undefined,
    });
    expect(apptainer).toContain("set -eu\nmodule load apptainer\nmodule load cuda/12.2\n");
    expect(apptainer).toMatch(
      /^exec apptainer exec --nv --bind \/shared\/project,\/shared\/raw\/exp-7.* --pwd \/shared\/project docker:\/\/ghcr\.io\/org\/app:1\.2 node \S+flyte-ts\.js execute /m,
    );
    const pyxis = script({
      template: imaged,
      cluster: new Slurm({ container: "pyxis" }),
      node: undefined,
    });
    expect(pyxis).toMatch(
      /^exec srun '--container-image=ghcr\.io#org\/app:1\.2' --container-mounts=\/shared\/project:\/shared\/project,.* --container-workdir=\/shared\/project node /m,
    );
    // An environment without an image of its own runs on the node.
    expect(script({ cluster: new Slurm({ container: "apptainer" }), node: "node" })).toMatch(
      /^exec node /m,
    );
    expect(pyxisImage("ubuntu:22.04")).toBe("ubuntu:22.04");
    expect(pyxisImage("org/app:1")).toBe("org/app:1");
    expect(pyxisImage("localhost:5000/app")).toBe("localhost:5000#app");
  });

  it("runs this process's node when sbatch runs here, and the login shell's over SSH", () => {
    expect(script({ cluster: new Slurm(), node: undefined })).toContain(
      `exec ${process.execPath} `,
    );
    expect(script({ cluster: new Slurm({ host: "login" }), node: undefined })).toMatch(
      /^exec node /m,
    );
    expect(
      script({
        cluster: new Slurm({ host: "login", node: "/opt/node/bin/node" }),
        node: undefined,
      }),
    ).toMatch(/^exec \/opt\/node\/bin\/node /m);
  });
});

describe("Slurm", () => {
  it("reports every problem of its options at once", () => {
    const bad = () =>
      new Slurm({
        partition: "two words",
        port: 70000,
        username: "me",
        sbatchOptions: { time: "1:00:00", "bad name": true, mail: ["x"] as unknown as string },
        container: "docker" as "pyxis",
        modules: [""],
      });
    expect(bad).toThrow(InvalidConfigError);
    const problems = (() => {
      try {
        bad();
      } catch (error) {
        return (error as InvalidConfigError).problems.map((p) => p.path);
      }
      return [];
    })();
    expect(problems.sort()).toEqual(
      [
        "container",
        "host",
        "modules[0]",
        "partition",
        "port",
        "sbatchOptions.bad name",
        "sbatchOptions.mail",
        "sbatchOptions.time",
      ].sort(),
    );
    expect(() => new Slurm({ sbatchOptions: { "cpus-per-task": 2 } })).toThrow(
      /flyte-ts sets --cpus-per-task itself/,
    );
    expect(() => new Slurm({ nodes: 2 } as never)).toThrow(/nodes/);
  });

  it("says where sbatch runs", () => {
    expect(new Slurm().describeWhere()).toBe("this host");
    expect(new Slurm({ host: "login.hpc", username: "ada", port: 2222 }).describeWhere()).toBe(
      "ada@login.hpc:2222 over SSH",
    );
  });
});

describe("writeSlurmDryRun", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flyte-ts-slurm-dry-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the root action's inputs and a script whose outputs and logs stay in the folder", async () => {
    const file = await writeSlurmDryRun({
      template: train,
      cluster: hpc,
      args: [0.1],
      runName: "dry",
      dir,
      rawDataPath: "/shared/raw/dry",
      customContext: { team: "ml" },
      version: "v1",
    });
    expect(file).toBe(join(dir, "actions", "a0", "job.sbatch"));
    const text = await readFile(file, "utf8");
    expect(directives(text)).toContain(`--output=${join(dir, "actions", "a0", "slurm-%j.out")}`);
    expect(text).toContain(`--outputs-path ${join(dir, "actions", "a0", "outputs", "attempt-0")}`);
    expect(text).toContain("--version v1");
    expect(await readInputs(join(dir, "actions", "a0", "inputs.v8"))).toEqual({
      args: [0.1],
      customContext: { team: "ml" },
    });
  });
});
