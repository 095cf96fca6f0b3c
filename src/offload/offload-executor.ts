/**
 * The offload executor: the Executor the controller uses for actions that run on Kubernetes
 * (every root action in `mode: "remote"`, actions of environments with `offload: "kubernetes"`
 * in `mode: "hybrid"`). Each attempt is emitted as its own Job (`backoffLimit: 0`: the controller
 * owns retries), submitted to the current kubeconfig context, watched to completion, and its
 * outputs read back from the shared data folder. Without a kubeconfig the attempt fails with a
 * message saying what was emitted, where, and the `kubectl` command that submits it.
 * @module
 */
import type { Resources } from "../api/resources.js";
import type { TaskTemplate } from "../api/task.js";
import type { RunMode } from "../context/context.js";
import { DeploymentError } from "../errors.js";
import type { ExecuteRequest, Executor } from "../execution/executor.js";
import type { Clock } from "../internal/time.js";
import { describeEmitted, type Emitter } from "./emit.js";
import { readResult } from "./io.js";
import { kubeconfigFiles, submitJob } from "./submit.js";

/**
 * Whether an action of `template` runs on a cluster in a run of `mode`: every action of a
 * remote run's controller (the root); in a hybrid run, actions of environments with an
 * `offload` and actions this host can never run, as `neverFitsHere` (the scheduler's ledger)
 * judges their Resources.
 */
export function runsOffloaded(
  mode: RunMode,
  template: TaskTemplate,
  neverFitsHere: (resources: Resources | undefined) => boolean,
): boolean {
  if (mode === "remote") return true;
  if (mode !== "hybrid") return false;
  return template.environment.offload !== undefined || neverFitsHere(template.resources);
}

/** Runs attempts as Kubernetes Jobs. */
export class OffloadExecutor implements Executor {
  readonly remote = true;
  readonly #emitter: Emitter;
  readonly #clock: Clock;
  readonly #env: NodeJS.ProcessEnv;

  /** @param env where `KUBECONFIG` is read from @default process.env */
  constructor(emitter: Emitter, clock: Clock, env: NodeJS.ProcessEnv = process.env) {
    this.#emitter = emitter;
    this.#clock = clock;
    this.#env = env;
  }

  async execute(request: ExecuteRequest): Promise<unknown> {
    const { template, context } = request;
    const emitted = await this.#emitter.emit({
      template,
      args: request.args,
      actionName: context.action.name,
      attempt: context.attemptNumber,
      backoffLimit: 0,
      customContext: context.customContext,
    });
    if (kubeconfigFiles(this.#env).length === 0) {
      throw new DeploymentError(
        `Task \`${template.name}\` (action ${context.action.name}) must run on Kubernetes, but no kubeconfig context is configured ($KUBECONFIG, or ~/.kube/config). ` +
          `flyte-ts emitted what it needs:\n${describeEmitted(emitted)}\n` +
          "Build and push the image, submit the Job, and read its outputs from the outputs folder; or configure a kubeconfig context and run again.",
        { code: "NoKubeconfig" },
      );
    }
    // The Job's pod phases are not watched: its maxRuntime counts from submission.
    request.started?.();
    await submitJob(emitted.job, { signal: request.abort.signal, clock: this.#clock });
    return readResult(emitted.outputsPath);
  }

  async close(): Promise<void> {}
}
