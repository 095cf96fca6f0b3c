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
export { Backoff, type BackoffOptions } from "./api/backoff.js";
export {
  Cache,
  type CacheBehavior,
  type CacheBehaviorAlias,
  type CacheOptions,
  type CachePolicy,
  type CacheRequest,
  FunctionBodyPolicy,
  type VersionParameters,
} from "./api/cache.js";
export {
  Device,
  type DeviceKind,
  type DeviceOptions,
  GPU,
  GPU_SHARE_UNITS,
  type GpuQuantity,
  type GpuShareOptions,
  type GpuType,
  TPU,
  type TpuType,
} from "./api/devices.js";
export { Dir } from "./api/dir.js";
export { File } from "./api/file.js";
export {
  type AutoImageOptions,
  type DockerfileImageOptions,
  Image,
  type ImageCloneOptions,
  type UvDebianOptions,
  type UvScriptOptions,
} from "./api/image.js";
export type { ImageLayer, PipOptions, Platform } from "./api/image-layers.js";
export { RateLimit, type RateLimitOptions, type TaskLimits } from "./api/limits.js";
export type { PartialTask } from "./api/partial.js";
export {
  PodTemplate,
  type PodTemplateOptions,
  type V1PodTemplateLike,
} from "./api/pod-template.js";
export { type CpuValue, Resources, type ResourcesOptions } from "./api/resources.js";
export { type RetryOptions, RetryStrategy } from "./api/retry.js";
export { ReusePolicy, type ReusePolicyOptions } from "./api/reuse-policy.js";
export { Secret, type SecretOptions, type SecretRequest } from "./api/secret.js";
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
  type EnvironmentCloneOptions,
  type EnvironmentOptions,
  TaskEnvironment,
  type TaskEnvironmentCloneOptions,
  type TaskEnvironmentOptions,
  type TaskFunction,
} from "./api/task-environment.js";
export {
  Timeout,
  type TimeoutOptions,
  type TimeoutRequest,
  type TimeoutType,
} from "./api/timeout.js";
export type { SharedCache } from "./cache/shared-tier.js";
// Running
export type { Checkpoint } from "./context/checkpoint.js";
export {
  type ActionId,
  type AssignedDevice,
  ctx,
  type RunMode,
  type TaskContext,
  type TaskContextData,
} from "./context/context.js";
export { customContext, getCustomContext } from "./context/custom-context.js";
export { group } from "./context/group.js";
export * as report from "./context/report.js";
export { trace } from "./context/trace.js";
// Errors and time
export * as errors from "./errors.js";
export type { Duration } from "./internal/time.js";
// Offload (when one machine is not enough)
export { type BuildContext, writeBuildContext } from "./offload/build-context.js";
export { type DockerfilePlan, planDockerfile } from "./offload/dockerfile.js";
export { GPU_FRACTION_ANNOTATIONS, type JobOptions, jobFor } from "./offload/kubernetes.js";
// Records
export type { ActionStatus, RunEvent, RunObserver, RunStatus } from "./record/events.js";
export type { LogEntry, LogObserver, LogSink, LogStream } from "./record/logs.js";
export { type ReportExtras, renderRunReport } from "./record/report.js";
export type { ActionRecord, AttemptRecord, RunRecordData } from "./record/run-record.js";
export { telemetryObserver } from "./record/telemetry.js";
export { main } from "./run/main.js";
export { type MapInput, type MapOptions, type MapResults, map } from "./run/map.js";
export {
  type CopyStyle,
  Run,
  RunContext,
  type RunEngine,
  type RunOptions,
  run,
  withRunContext,
} from "./run/run.js";
export { shutdown } from "./run/shutdown.js";
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
