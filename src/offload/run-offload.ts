/**
 * What `withRunContext()` does for the offload modes: a dry run emits the root action and runs
 * nothing; `"remote"` and `"hybrid"` runs get an executor for the actions that go to a cluster:
 * an {@link OffloadExecutor} for Kubernetes, a {@link SlurmExecutor} per Slurm cluster.
 * @module
 */
import { join } from "node:path";
import type { Resources } from "../api/resources.js";
import { Slurm } from "../api/slurm.js";
import type { Offload, TaskTemplate } from "../api/task.js";
import type { RunMode } from "../context/context.js";
import type { Executor } from "../execution/executor.js";
import type { Clock } from "../internal/time.js";
import { LocalScheduler } from "../scheduler/local-scheduler.js";
import { needsOf } from "../scheduler/needs.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { CopyStyle } from "./bundle.js";
import { type EmittedAction, Emitter } from "./emit.js";
import { OffloadExecutor, runsOffloaded } from "./offload-executor.js";
import { writeSlurmDryRun } from "./slurm.js";
import { SlurmExecutor } from "./slurm-executor.js";

/** The run settings offload needs. */
export interface OffloadRunSettings {
  readonly runName: string;
  readonly mode: RunMode;
  /** `copyBundleTo`: where Jobs and image contexts are written. */
  readonly emitDir: string;
  readonly rawDataPath: string;
  readonly copyStyle: CopyStyle;
  /** `interactiveMode`: ship the modules bundled by esbuild instead of their sources. */
  readonly interactive?: boolean;
  readonly version: string | undefined;
  readonly serviceAccount: string | undefined;
  readonly customContext: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** The root task's module, bundled with the offloaded tasks. */
  readonly entryModule: string | undefined;
  /** The cluster for actions whose environment names none. @default "kubernetes" */
  readonly offload?: Offload | undefined;
  /** The run's `.flyte` folder; Slurm jobs use it too (cache, secrets.env) on the shared filesystem. */
  readonly home?: string | undefined;
}

/** Where an offloaded action goes: its environment's cluster, else the run's, else Kubernetes. */
function clusterOf(template: TaskTemplate, settings: OffloadRunSettings): "kubernetes" | Slurm {
  const target = template.environment.offload ?? settings.offload ?? "kubernetes";
  return target === "slurm" ? thisHostSlurm : target;
}

/** `offload: "slurm"`: sbatch on this host, the cluster's defaults. */
const thisHostSlurm = new Slurm();

/**
 * Emits the root action of a dry run into `emitDir`: for Kubernetes the image build context, the
 * bundle, the inputs and `job.yaml` (with the task's retries as `backoffLimit`); for Slurm the
 * inputs and `job.sbatch`. Nothing runs.
 * @throws DeploymentError when the task cannot be offloaded (its module is not a file, or copyStyle "none" without a version)
 */
export async function emitDryRun(
  settings: OffloadRunSettings,
  template: TaskTemplate,
  args: readonly unknown[],
): Promise<EmittedAction | string> {
  const cluster = clusterOf(template, settings);
  if (cluster !== "kubernetes") {
    return writeSlurmDryRun({
      template,
      cluster,
      args,
      runName: settings.runName,
      dir: settings.emitDir,
      rawDataPath: settings.rawDataPath,
      customContext: settings.customContext,
      version: settings.version,
    });
  }
  const emitter = new Emitter({ ...emitterSettings(settings), dataDir: settings.emitDir });
  return emitter.emit({ template, args, actionName: "a0" });
}

/** Whether this host can never run what `resources` asks for. */
export type NeverFitsHere = (resources: Resources | undefined) => boolean;

/**
 * The one judge of "can this host ever run it": the resource scheduler's ledger (cgroup-aware
 * CPUs and memory, the detected GPUs and TPUs), once the host's inventory is known. A scheduler
 * without a ledger judges nothing impossible (a local run then refuses at admission).
 */
export async function neverFitsHere(scheduler: Scheduler): Promise<NeverFitsHere> {
  if (!(scheduler instanceof LocalScheduler)) return () => false;
  const ledger = await scheduler.ready().catch(() => undefined);
  if (ledger === undefined) return () => false;
  return (resources) => ledger.impossible(needsOf(resources, false)) !== undefined;
}

/**
 * The run-here-or-offload decision of a run: for a hybrid or remote run, a function giving the
 * offload executor for the actions that leave this host (marked environments, and in hybrid runs
 * whatever `scheduler`'s ledger says this host can never run), `undefined` for the rest.
 */
export async function offloadExecutorFor(
  settings: OffloadRunSettings,
  scheduler: Scheduler,
): Promise<((template: TaskTemplate) => Executor | undefined) | undefined> {
  if (settings.mode === "local") return undefined;
  const neverFits = settings.mode === "hybrid" ? await neverFitsHere(scheduler) : () => false;
  let kubernetes: OffloadExecutor | undefined;
  const kubernetesExecutor = () => {
    const dataDir = join(settings.rawDataPath, "offload");
    kubernetes ??= new OffloadExecutor(
      new Emitter({ ...emitterSettings(settings), dataDir }),
      settings.clock,
    );
    return kubernetes;
  };
  const slurm = new Map<Slurm, SlurmExecutor>();
  const slurmExecutor = (cluster: Slurm) => {
    let executor = slurm.get(cluster);
    if (executor === undefined) {
      executor = new SlurmExecutor(cluster, settings);
      slurm.set(cluster, executor);
    }
    return executor;
  };
  return (template) => {
    if (!runsOffloaded(settings.mode, template, neverFits)) return undefined;
    const cluster = clusterOf(template, settings);
    return cluster === "kubernetes" ? kubernetesExecutor() : slurmExecutor(cluster);
  };
}

function emitterSettings(settings: OffloadRunSettings) {
  return {
    runName: settings.runName,
    emitDir: settings.emitDir,
    home: settings.home,
    rawDataPath: settings.rawDataPath,
    copyStyle: settings.copyStyle,
    interactive: settings.interactive === true,
    version: settings.version,
    serviceAccount: settings.serviceAccount,
    namespace: undefined,
    customContext: settings.customContext,
    entryModule: settings.entryModule,
  };
}
