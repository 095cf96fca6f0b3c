/**
 * flyte-ts: flyte v2's authoring model as an embedded execution engine for Node.js.
 *
 * @example
 * ```ts
 * import * as flyte from "flyte-ts";
 * const env = new flyte.TaskEnvironment({ name: "demo" });
 * export const square = env.task(async function square(x: number) { return x * x; });
 * const run = await flyte.run(square, 3);
 * ```
 * @module
 */

// Definitions
export {
  Cache,
  type CacheBehavior,
  type CacheOptions,
  type CachePolicy,
  type CacheRequest,
  FunctionBodyPolicy,
  type VersionParameters,
} from "./api/cache.js";
export { Device, GPU, TPU } from "./api/devices.js";
export { File } from "./api/file.js";
export { Image } from "./api/image.js";
export { PodTemplate } from "./api/pod-template.js";
export { Resources, type ResourcesOptions } from "./api/resources.js";
export { RetryStrategy } from "./api/retry.js";
export { ReusePolicy } from "./api/reuse-policy.js";
export { Secret, type SecretRequest } from "./api/secret.js";
export { Slurm, type SlurmOptions } from "./api/slurm.js";
export type {
  AnyTask,
  Offload,
  OverrideOptions,
  Runtime,
  Task,
  TaskOptions,
  TaskTemplate,
} from "./api/task.js";
export {
  Environment,
  type EnvironmentOptions,
  TaskEnvironment,
  type TaskEnvironmentOptions,
} from "./api/task-environment.js";
export { Timeout } from "./api/timeout.js";
export type { SharedCache } from "./cache/shared-tier.js";
// Running
export {
  type ActionId,
  type AssignedDevice,
  ctx,
  type RunMode,
  type TaskContext,
} from "./context/context.js";
export { group } from "./context/group.js";
export * as report from "./context/report.js";
export { trace } from "./context/trace.js";
// Errors and time
export * as errors from "./errors.js";
export { shutdown } from "./execution/pool-executor.js";
export type { Duration } from "./internal/time.js";
// Offload (when one machine is not enough)
export { type BuildContext, writeBuildContext } from "./offload/build-context.js";
export { type DockerfilePlan, planDockerfile } from "./offload/dockerfile.js";
export { type JobOptions, jobFor } from "./offload/kubernetes.js";
// Records
export type { ActionStatus, RunEvent, RunObserver, RunStatus } from "./record/events.js";
export type { LogEntry, LogObserver, LogSink, LogStream } from "./record/logs.js";
export { type ReportExtras, renderRunReport } from "./record/report.js";
export type { ActionRecord, AttemptRecord, RunRecordData } from "./record/run-record.js";
export { telemetryObserver } from "./record/telemetry.js";
export { main } from "./run/main.js";
export { type MapOptions, type MapResults, map } from "./run/map.js";
export {
  type CopyStyle,
  Run,
  RunContext,
  type RunOptions,
  run,
  withRunContext,
} from "./run/run.js";
// Host inventory
export {
  type DetectOptions,
  detectInventory,
  type GpuInfo,
  type HostInventory,
  type MigInstance,
  type TpuChip,
} from "./scheduler/inventory.js";
export { version } from "./version.js";
