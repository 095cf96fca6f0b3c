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
export { Image } from "./api/image.js";
export { PodTemplate } from "./api/pod-template.js";
export { Resources, type ResourcesOptions } from "./api/resources.js";
export { RetryStrategy } from "./api/retry.js";
export { ReusePolicy } from "./api/reuse-policy.js";
export { Secret, type SecretRequest } from "./api/secret.js";
export type {
  AnyTask,
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

// Running
export { type ActionId, ctx, type RunMode, type TaskContext } from "./context/context.js";
export { group } from "./context/group.js";
export { trace } from "./context/trace.js";
// Errors and time
export * as errors from "./errors.js";
export { shutdown } from "./execution/pool-executor.js";
export type { Duration } from "./internal/time.js";
// Records
export type { ActionStatus, RunEvent, RunObserver, RunStatus } from "./record/events.js";
export type { ActionRecord, AttemptRecord } from "./record/run-record.js";
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
export { version } from "./version.js";
