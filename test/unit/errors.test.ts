import { describe, expect, it } from "vitest";
import {
  asCallerSees,
  DeploymentError,
  errorFromData,
  errorToData,
  FlyteError,
  InvalidConfigError,
  isRetryable,
  NonRecoverableError,
  OOMError,
  RuntimeSystemError,
  RuntimeUserError,
  TaskTimeoutError,
  toTaskError,
} from "../../src/errors.js";

describe("errors", () => {
  it("takes the message first and forwards the cause, as any JavaScript error", () => {
    const cause = new Error("root");
    const error = new NonRecoverableError("bad input", { cause });
    expect(error.message).toBe("bad input");
    expect(error.cause).toBe(cause);
    expect(error.code).toBe("NonRecoverableError");
    expect(error.kind).toBe("user");
    expect(error).toBeInstanceOf(RuntimeUserError);
    expect(error).toBeInstanceOf(FlyteError);
  });

  it("retries every error except those a retry cannot change", () => {
    expect(isRetryable(new RuntimeUserError("x"))).toBe(true);
    expect(isRetryable(new TaskTimeoutError("x"))).toBe(true);
    expect(isRetryable(new OOMError("x"))).toBe(true);
    expect(isRetryable(new RuntimeSystemError("x"))).toBe(true);
    expect(isRetryable(new NonRecoverableError("x"))).toBe(false);
    expect(isRetryable(new InvalidConfigError("thing", []))).toBe(false);
    expect(isRetryable(new DeploymentError("submit failed"))).toBe(true);
    expect(isRetryable(new DeploymentError("no cluster", { code: "NoKubeconfig" }))).toBe(false);
  });

  it("rebuilds flyte-ts errors into their own class from plain data", () => {
    const original = new TaskTimeoutError("too slow", { cause: new TypeError("inner") });
    const data = structuredClone(errorToData(original));
    const rebuilt = errorFromData(data);
    expect(rebuilt).toBeInstanceOf(TaskTimeoutError);
    expect(rebuilt.message).toBe("too slow");
    expect((rebuilt as TaskTimeoutError).code).toBe("TaskTimeoutError");
    expect((rebuilt.cause as Error).name).toBe("TypeError");
    expect(rebuilt.stack).toBe(original.stack);
  });

  it("keeps the problems of an InvalidConfigError through plain data", () => {
    const original = new InvalidConfigError("TaskEnvironment", [{ path: "name", message: "bad" }]);
    const rebuilt = errorFromData(errorToData(original)) as InvalidConfigError;
    expect(rebuilt).toBeInstanceOf(InvalidConfigError);
    expect(rebuilt.problems).toEqual([{ path: "name", message: "bad" }]);
    expect(rebuilt.message).toBe(original.message);
  });

  it("hands a NonRecoverableError to the caller as a RuntimeUserError of the same code, as upstream", () => {
    const original = new NonRecoverableError("bad input");
    const seen = asCallerSees(original);
    expect(seen.constructor).toBe(RuntimeUserError);
    expect(seen).not.toBeInstanceOf(NonRecoverableError);
    expect(seen.code).toBe("NonRecoverableError");
    expect(seen.message).toBe("bad input");
    expect(seen.cause).toBe(original);
    expect(isRetryable(seen)).toBe(true);
    const timeout = new TaskTimeoutError("slow");
    expect(asCallerSees(timeout)).toBe(timeout);
  });

  it("keeps the class name of an error of an unknown class through plain data, as its code", () => {
    class QuotaError extends Error {}
    const rebuilt = errorFromData(structuredClone(errorToData(new QuotaError("over"))));
    expect(rebuilt.constructor).toBe(Error);
    expect(toTaskError(rebuilt).code).toBe("QuotaError");
    expect(errorToData(rebuilt).code).toBe("QuotaError");
  });

  it("maps a task's own error to RuntimeUserError with its class name as code", () => {
    class QuotaError extends Error {}
    const mapped = toTaskError(new QuotaError("over quota"));
    expect(mapped).toBeInstanceOf(RuntimeUserError);
    expect(mapped.code).toBe("QuotaError");
    expect(mapped.message).toBe("over quota");
    const flyteError = new OOMError("oom");
    expect(toTaskError(flyteError)).toBe(flyteError);
    expect(toTaskError("a string").kind).toBe("unknown");
  });

  it("lists every problem with its path in the message", () => {
    const error = new InvalidConfigError('TaskEnvironment "x"', [
      { path: "name", message: "Use lowercase." },
      { path: "resources.cpu", message: "Expected a number." },
    ]);
    expect(error.message).toBe(
      'Invalid TaskEnvironment "x" (2 problems):\n  - name: Use lowercase.\n  - resources.cpu: Expected a number.',
    );
  });
});
