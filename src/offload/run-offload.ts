/**
 * What `withRunContext()` does for the offload modes: a dry run emits the root action and runs
 * nothing; `"remote"` and `"hybrid"` runs get an {@link OffloadExecutor} for the actions that go
 * to Kubernetes.
 * @module
 */
import { join } from "node:path";
import type { Resources } from "../api/resources.js";
import type { TaskTemplate } from "../api/task.js";
import type { RunMode } from "../context/context.js";
import type { Executor } from "../execution/executor.js";
import type { Clock } from "../internal/time.js";
import type { CopyStyle } from "../run/run.js";
import { type EmittedAction, Emitter } from "./emit.js";
import { hostCapacity, OffloadExecutor, runsOffloaded } from "./offload-executor.js";

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
  /** The run's flyte folder, never bundled. */
  readonly home?: string | undefined;
}

/**
 * Emits the root action of a dry run into `emitDir`: the image build context, the bundle, the
 * inputs and `job.yaml` (with the task's retries as `backoffLimit`). Nothing runs.
 * @throws DeploymentError when the task cannot be offloaded (its module is not a file, or copyStyle "none" without a version)
 */
export function emitDryRun(
  settings: OffloadRunSettings,
  template: TaskTemplate,
  args: readonly unknown[],
): Promise<EmittedAction> {
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
  const emitter = new Emitter({
    ...emitterSettings(settings),
    dataDir: join(settings.rawDataPath, "offload"),
  });
  const executor = new OffloadExecutor(emitter, settings.clock);
  const host = hostCapacity();
  return (template) =>
    runsOffloaded(settings.mode, template, host) || neverFitsHere?.(template.resources) === true
      ? executor
      : undefined;
}

function emitterSettings(settings: OffloadRunSettings) {
  return {
    runName: settings.runName,
    emitDir: settings.emitDir,
    home: settings.home,
    rawDataPath: settings.rawDataPath,
    copyStyle: settings.copyStyle,
    version: settings.version,
    serviceAccount: settings.serviceAccount,
    namespace: undefined,
    customContext: settings.customContext,
    entryModule: settings.entryModule,
  };
}
