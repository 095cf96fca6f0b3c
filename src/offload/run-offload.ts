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
import type { CopyStyle } from "../run/run.js";
import { type EmittedAction, Emitter } from "./emit.js";
import { hostCapacity, OffloadExecutor, runsOffloaded } from "./offload-executor.js";
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
  readonly version: string | undefined;
  readonly serviceAccount: string | undefined;
  readonly customContext: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** The root task's module, bundled with the offloaded tasks. */
  readonly entryModule: string | undefined;
  /** The cluster for actions whose environment names none. @default "kubernetes" */
  readonly offload?: Offload | undefined;
  /** The run's `.flyte` folder; Slurm jobs use it too (cache, secrets.env) on the shared filesystem. */
  readonly home?: string;
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

/**
 * The executor for offloaded actions of a `"remote"` or `"hybrid"` run, or `undefined` for a
 * local run. Inputs, outputs and the bundle go under `<rawDataPath>/offload`, which the pods must
 * share with this host.
 */
export function offloadExecutorFor(
  settings: OffloadRunSettings,
  neverFitsHere?: (resources: Resources | undefined) => boolean,
): ((template: TaskTemplate) => Executor | undefined) | undefined {
  if (settings.mode === "local") return undefined;
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
  const host = hostCapacity();
  return (template) => {
    if (
      !runsOffloaded(settings.mode, template, host) &&
      neverFitsHere?.(template.resources) !== true
    ) {
      return undefined;
    }
    const cluster = clusterOf(template, settings);
    return cluster === "kubernetes" ? kubernetesExecutor() : slurmExecutor(cluster);
  };
}

function emitterSettings(settings: OffloadRunSettings) {
  return {
    runName: settings.runName,
    emitDir: settings.emitDir,
    rawDataPath: settings.rawDataPath,
    copyStyle: settings.copyStyle,
    version: settings.version,
    serviceAccount: settings.serviceAccount,
    namespace: undefined,
    customContext: settings.customContext,
    entryModule: settings.entryModule,
  };
}
