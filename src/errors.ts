/**
 * Every error flyte-ts raises, and the rules for carrying errors across threads and processes.
 *
 * All errors extend {@link FlyteError}, which carries a stable `code`, a `kind`
 * (`"user" | "system" | "unknown"`) and the `cause`. Errors cross worker boundaries as plain data
 * ({@link ErrorData}) and are rebuilt into the same class by {@link errorFromData}.
 *
 * @module
 */

/** Who is to blame for an error: the task's code, the engine or the host, or nobody knows. */
export type ErrorKind = "user" | "system" | "unknown";

/** Options every flyte-ts error accepts after its message. */
export interface FlyteErrorOptions {
  /** Stable machine-readable code. @default the class name */
  code?: string;
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * The base of every flyte-ts error.
 *
 * @example
 * ```ts
 * try { await flyte.run(main); } catch (e) {
 *   if (e instanceof flyte.errors.FlyteError) console.log(e.code, e.kind);
 * }
 * ```
 */
export class FlyteError extends Error {
  /** Stable machine-readable code, e.g. `"TaskTimeoutError"` or, for a task's own error, its class name. */
  readonly code: string;
  /** Who is to blame: `"user"` (the task's code or definition), `"system"` (engine, host) or `"unknown"`. */
  readonly kind: ErrorKind;

  constructor(message: string, options: FlyteErrorOptions & { kind?: ErrorKind } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? new.target.name;
    this.kind = options.kind ?? "user";
  }
}

/**
 * A task's own code failed. `code` is the original error's class name (`"TypeError"`, `"ValueError"`),
 * `message` its message, and `cause` the original error.
 *
 * @example
 * ```ts
 * try { await child(); } catch (e) {
 *   if (e instanceof flyte.errors.RuntimeUserError && e.code === "RangeError") { ... }
 * }
 * ```
 */
export class RuntimeUserError extends FlyteError {
  constructor(message: string, options: FlyteErrorOptions = {}) {
    super(message, { ...options, kind: "user" });
  }
}

/** The engine or the host failed (a worker died, a channel broke); retried like any failure. */
export class RuntimeSystemError extends FlyteError {
  constructor(message: string, options: FlyteErrorOptions = {}) {
    super(message, { ...options, kind: "system" });
  }
}

/** A failure that could not be classified. */
export class RuntimeUnknownError extends FlyteError {
  constructor(message: string, options: FlyteErrorOptions = {}) {
    super(message, { ...options, kind: "unknown" });
  }
}

/**
 * An attempt ran past its `maxRuntime`, or waited in the queue past its `maxQueuedTime`.
 * Retried per the task's RetryStrategy.
 */
export class TaskTimeoutError extends RuntimeUserError {}

/** A task ran out of memory (its heap limit derived from `Resources.memory`, or the host's). */
export class OOMError extends RuntimeUserError {}

/** Every attempt of a task failed; `cause` is the last attempt's error. */
export class RetriesExhaustedError extends RuntimeUserError {}

/**
 * Thrown by a task to stop retries at once: the task fails with this error whatever its
 * RetryStrategy says.
 *
 * @example
 * ```ts
 * if (!input.valid) throw new flyte.errors.NonRecoverableError("bad input", { cause: err });
 * ```
 */
export class NonRecoverableError extends RuntimeUserError {}

/** Something that needs a running task (a `flyte.ctx()`-dependent call) was used outside one. */
export class NotInTaskContextError extends RuntimeUserError {}

/** A task was called inside a `flyte.trace` body, which may only run plain code. */
export class TraceDoesNotAllowNestedTasksError extends RuntimeUserError {}

/** A value cannot cross to a worker, or a task's inputs or outputs do not fit its definition. */
export class RuntimeDataValidationError extends RuntimeUserError {}

/** A task asked for more than this host has, or ever could give it. Not retried. */
export class InsufficientResourcesError extends RuntimeUserError {}

/** An image could not be built or rendered. */
export class ImageBuildError extends RuntimeUserError {}

/** Emitting or submitting work to a cluster failed. */
export class DeploymentError extends RuntimeUserError {}

/** The run was cancelled (Ctrl-C, `AbortSignal`, or `flyte.shutdown()`). Not retried. */
export class RunCancelledError extends RuntimeSystemError {}

/** One problem found while validating a definition. */
export interface ConfigProblem {
  /** Where the problem is, e.g. `"resources.cpu"` or `"name"`. */
  readonly path: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/**
 * A definition (TaskEnvironment, task options, Resources, Cache, ...) is invalid. Lists every
 * problem found, each with its path, at once.
 *
 * @example
 * ```ts
 * try { new flyte.TaskEnvironment({ name: "Bad Name!" }); } catch (e) {
 *   if (e instanceof flyte.errors.InvalidConfigError) console.log(e.problems);
 * }
 * ```
 */
export class InvalidConfigError extends FlyteError {
  /** Every problem found, in the order checked. */
  readonly problems: readonly ConfigProblem[];
  /** What was being defined, e.g. `TaskEnvironment "training"`. */
  readonly subject: string;

  constructor(
    subject: string,
    problems: readonly ConfigProblem[],
    options: FlyteErrorOptions = {},
  ) {
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ""}${p.message}`);
    super(
      `Invalid ${subject} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
      { ...options, kind: "user" },
    );
    this.subject = subject;
    this.problems = problems;
  }
}

const errorClasses = {
  FlyteError,
  RuntimeUserError,
  RuntimeSystemError,
  RuntimeUnknownError,
  TaskTimeoutError,
  OOMError,
  RetriesExhaustedError,
  NonRecoverableError,
  NotInTaskContextError,
  TraceDoesNotAllowNestedTasksError,
  RuntimeDataValidationError,
  InsufficientResourcesError,
  ImageBuildError,
  DeploymentError,
  RunCancelledError,
  InvalidConfigError,
} as const;

/** The name of each flyte-ts error class; also its default `code`. */
export type FlyteErrorName = keyof typeof errorClasses;

/**
 * Whether a failed attempt with this error may be retried. Every failure is retried except those
 * whose retry could not change the outcome.
 */
export function isRetryable(error: FlyteError): boolean {
  const name = error.name as FlyteErrorName;
  switch (name) {
    case "NonRecoverableError":
    case "InvalidConfigError":
    case "InsufficientResourcesError":
    case "TraceDoesNotAllowNestedTasksError":
    case "RuntimeDataValidationError":
    case "RunCancelledError":
    case "NotInTaskContextError":
      return false;
    case "FlyteError":
    case "RuntimeUserError":
    case "RuntimeSystemError":
    case "RuntimeUnknownError":
    case "TaskTimeoutError":
    case "OOMError":
    case "RetriesExhaustedError":
    case "ImageBuildError":
      return true;
    case "DeploymentError":
      // Nothing to submit to, or a cluster that refuses the request: a retry would fail the same way.
      return !["NoKubeconfig", "NoSbatch", "SlurmUnreachable", "SlurmRefused"].includes(error.code);
    default:
      // A class not listed here (a user's subclass of FlyteError): retry, as upstream does.
      name satisfies never;
      return true;
  }
}

/** An error as plain data, safe to post to a worker or write to a run record. */
export interface ErrorData {
  readonly name: string;
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly stack?: string;
  readonly problems?: readonly ConfigProblem[];
  readonly cause?: ErrorData;
}

// The class name of an error rebuilt from data as a plain Error (its class is not known here):
// what `code` says when it crosses again or reaches a parent.
const originalClass = Symbol.for("flyte-ts.error-class.v1");

/** Records that `error`, rebuilt from data, was of class `name` where it was thrown. */
export function rememberClass<E extends Error>(error: E, name: string): E {
  if (name !== error.constructor?.name) {
    Object.defineProperty(error, originalClass, { value: name, configurable: true });
  }
  return error;
}

/** The class name an error was thrown as: remembered for rebuilt errors, else its constructor's. */
function className(error: Error): string {
  const remembered = (error as { [originalClass]?: string })[originalClass];
  if (remembered !== undefined) return remembered;
  return error.constructor?.name && error.constructor.name !== "Error"
    ? error.constructor.name
    : error.name;
}

/** Turns any thrown value into plain data (recursively through `cause`, at most 8 deep). */
export function errorToData(error: unknown, depth = 0): ErrorData {
  if (error instanceof FlyteError) {
    return {
      name: error.name,
      code: error.code,
      kind: error.kind,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(error instanceof InvalidConfigError ? { problems: error.problems } : {}),
      ...(error.cause !== undefined && depth < 8
        ? { cause: errorToData(error.cause, depth + 1) }
        : {}),
    };
  }
  if (error instanceof Error) {
    return {
      name: error.name,
      code: className(error),
      kind: "user",
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(error.cause !== undefined && depth < 8
        ? { cause: errorToData(error.cause, depth + 1) }
        : {}),
    };
  }
  return { name: "Error", code: typeof error, kind: "unknown", message: String(error) };
}

/**
 * Rebuilds an error from {@link errorToData}'s output: flyte-ts errors come back as their own
 * class; other errors as a plain `Error` with the original name, message and stack.
 */
export function errorFromData(data: ErrorData): Error {
  const cause = data.cause === undefined ? undefined : errorFromData(data.cause);
  const options = { code: data.code, ...(cause === undefined ? {} : { cause }) };
  let error: Error;
  if (data.name === "InvalidConfigError") {
    error = new InvalidConfigError("definition", data.problems ?? [], options);
    error.message = data.message;
  } else if (Object.hasOwn(errorClasses, data.name)) {
    const Class = errorClasses[data.name as Exclude<FlyteErrorName, "InvalidConfigError">];
    error = new Class(data.message, { ...options, kind: data.kind });
  } else {
    error = rememberClass(
      new Error(data.message, cause === undefined ? undefined : { cause }),
      data.code,
    );
    error.name = data.name;
  }
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/**
 * The error an action's caller (its parent task, or `run()` for the root) sees when the action
 * failed with `error`. A NonRecoverableError stops the retries of the action that raised it
 * only: as upstream's local mode, its caller gets a RuntimeUserError with the same `code`
 * (`"NonRecoverableError"`), which the caller's own retries treat like any failure. The
 * original is its `cause`. Every other error passes through.
 */
export function asCallerSees(error: FlyteError): FlyteError {
  if (!(error instanceof NonRecoverableError)) return error;
  return new RuntimeUserError(error.message, { code: error.code, cause: error });
}

/**
 * The error a parent sees when a child action failed: flyte-ts errors pass through unchanged;
 * anything else becomes a {@link RuntimeUserError} whose `code` is the original class name and
 * whose `cause` is the original.
 */
export function toTaskError(error: unknown): FlyteError {
  if (error instanceof FlyteError) return error;
  if (error instanceof Error) {
    return new RuntimeUserError(error.message, { code: className(error), cause: error });
  }
  return new RuntimeUnknownError(`A task threw a non-Error value: ${String(error)}`, {
    code: "NonErrorThrown",
    cause: error,
  });
}
