/**
 * A run's own environment variables (`withRunContext({ envVars })`, `flyte-ts run --env K=V`):
 * added to the environment of every pooled attempt of the run, over the environment's
 * `envVars` and secrets. Device pinning variables are the scheduler's and cannot be set.
 * @module
 */
import type { Executor, ExecutorFactory } from "../execution/executor.js";

/** Variables the scheduler sets per attempt (device and core pinning); a run cannot set them. */
const reserved =
  /^(CUDA_VISIBLE_DEVICES|NVIDIA_VISIBLE_DEVICES|ROCR_VISIBLE_DEVICES|HIP_VISIBLE_DEVICES|TPU_.*|FLYTE_TS_.*)$/;

/** The problems of a run's `envVars`: each as `[path, message]`. */
export function runEnvProblems(envVars: unknown): [string, string][] {
  if (typeof envVars !== "object" || envVars === null || Array.isArray(envVars)) {
    return [["envVars", "Expected `envVars` to be an object of strings."]];
  }
  const problems: [string, string][] = [];
  for (const [key, value] of Object.entries(envVars)) {
    if (typeof value !== "string") {
      problems.push([`envVars.${key}`, `Expected a string, got ${typeof value}.`]);
    } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      problems.push([`envVars.${key}`, "Expected a variable name: letters, digits and _."]);
    } else if (reserved.test(key)) {
      problems.push([
        `envVars.${key}`,
        `${key} is set per attempt by the scheduler (device and core pinning); a run cannot set it.`,
      ]);
    }
  }
  return problems;
}

/**
 * Wraps `factory` so that every attempt's environment has `envVars` added (they win over the
 * environment's own `envVars` and secrets). The merged object is made once per distinct
 * environment object, so pools keyed by it still find their workers.
 */
export function withRunEnv(
  factory: ExecutorFactory,
  envVars: Readonly<Record<string, string>>,
): ExecutorFactory {
  if (Object.keys(envVars).length === 0) return factory;
  const merged = new WeakMap<object, Readonly<Record<string, string>>>();
  const envFor = (env: Readonly<Record<string, string>>) => {
    let out = merged.get(env);
    if (out === undefined) {
      out = Object.freeze({ ...env, ...envVars });
      merged.set(env, out);
    }
    return out;
  };
  const wrapped = new WeakMap<Executor, Executor>();
  return (template) => {
    const executor = factory(template);
    let outer = wrapped.get(executor);
    if (outer === undefined) {
      outer = {
        ...(executor.remote === undefined ? {} : { remote: executor.remote }),
        execute: (request) => executor.execute({ ...request, env: envFor(request.env) }),
        close: () => executor.close(),
      };
      wrapped.set(executor, outer);
    }
    return outer;
  };
}
