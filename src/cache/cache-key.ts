/**
 * Cache keys: SHA-256 over (task name, parameter names, cache version, canonical inputs without
 * `ignoredInputs`). Not in the key: image, resources, env vars, secrets, retries, run name.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { hashInputs, trimArgs } from "../cache/inputs.js";
import { sha256Hex } from "../internal/hash.js";
import { sourceAsWritten } from "./function-source.js";

const versions = new WeakMap<TaskTemplate, string>();

/**
 * The cache version of a task, computed once per task definition (upstream recomputes the
 * function-body hash on every call). Policies get the function's source as written when it can
 * be found ({@link sourceAsWritten}).
 */
export function cacheVersion(template: TaskTemplate): string {
  let version = versions.get(template);
  if (version === undefined) {
    const source = sourceAsWritten(template);
    version = template.cache.getVersion(
      source === undefined ? { func: template.func } : { func: template.func, source },
    );
    versions.set(template, version);
  }
  return version;
}

/**
 * The cache key of a call. `inputsHash` is the canonical hash of all arguments, reused when no
 * input is ignored.
 */
export function cacheKey(
  template: TaskTemplate,
  args: readonly unknown[],
  inputsHash: string,
): string {
  const ignored = template.cache.getIgnoredInputs();
  let hash = inputsHash;
  if (ignored.length > 0) {
    const kept = trimArgs(args).map((arg, i) => {
      const name = template.parameters[i]?.name;
      return name !== undefined && ignored.includes(name) ? undefined : arg;
    });
    hash = hashInputs(template, kept);
  }
  const names = template.parameters.map((p) => p.name).join(",");
  return sha256Hex(`${template.name}\n${names}\n${cacheVersion(template)}\n${hash}`);
}
