/**
 * Submits an emitted Job to the cluster of the current kubeconfig context with
 * `@kubernetes/client-node`, and watches it until it succeeds or fails. The client is imported
 * only when a Job is submitted.
 * @module
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { DeploymentError, RuntimeSystemError } from "../errors.js";
import { importModule } from "../internal/import-module.js";
import type { Clock } from "../internal/time.js";
import type { JsonObject } from "./kubernetes.js";

/** How the Job ended. */
export type JobOutcome = "succeeded" | "failed";

/**
 * The kubeconfig files in force: `$KUBECONFIG` (a path list) when set, else `~/.kube/config`;
 * only files that exist. Inside a pod (`KUBERNETES_SERVICE_HOST` set) the in-cluster config
 * counts as one, reported as `"in-cluster"`.
 */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = env.KUBECONFIG
    ? env.KUBECONFIG.split(delimiter).filter((p) => p !== "")
    : [join(homedir(), ".kube", "config")];
  const found = listed.filter((path) => existsSync(path));
  if (found.length === 0 && env.KUBERNETES_SERVICE_HOST) return ["in-cluster"];
  return found;
}

/** Options of {@link submitJob}. */
export interface SubmitOptions {
  /** Stops watching and deletes the Job when aborted. */
  signal: AbortSignal;
  clock: Clock;
  /** How often the Job's status is read. @default 2000 (milliseconds) */
  pollMs?: number;
}

/**
 * Creates `job` in its namespace (or the context's) and resolves when it has succeeded or failed.
 * @throws DeploymentError when the API server refuses the Job
 */
export async function submitJob(job: JsonObject, options: SubmitOptions): Promise<JobOutcome> {
  const k8s =
    await importModule<typeof import("@kubernetes/client-node")>("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  const metadata = job.metadata as { name: string; namespace?: string };
  const namespace =
    metadata.namespace ??
    config.getContextObject(config.getCurrentContext())?.namespace ??
    "default";
  const batch = config.makeApiClient(k8s.BatchV1Api);
  try {
    await batch.createNamespacedJob({ namespace, body: job as never });
  } catch (error) {
    throw new DeploymentError(
      `The cluster of kubeconfig context "${config.getCurrentContext()}" refused Job ${metadata.name}: ${(error as Error).message}. Check the context and namespace "${namespace}".`,
      { cause: error },
    );
  }
  const remove = () => {
    batch
      .deleteNamespacedJob({ name: metadata.name, namespace, propagationPolicy: "Background" })
      .catch(() => undefined);
  };
  options.signal.addEventListener("abort", remove, { once: true });
  try {
    for (;;) {
      options.signal.throwIfAborted();
      const current = await batch.readNamespacedJobStatus({ name: metadata.name, namespace });
      const conditions = current.status?.conditions ?? [];
      const done = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
      if (done("Complete") || (current.status?.succeeded ?? 0) > 0) return "succeeded";
      if (done("Failed")) return "failed";
      await pause(options.clock, options.pollMs ?? 2000, options.signal);
    }
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    throw new RuntimeSystemError(
      `Lost track of Job ${metadata.name} in namespace "${namespace}": ${(error as Error).message}. See \`kubectl describe job ${metadata.name} -n ${namespace}\`.`,
      { cause: error },
    );
  } finally {
    options.signal.removeEventListener("abort", remove);
  }
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
