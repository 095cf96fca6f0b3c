/**
 * What a resume checks before it replays anything: that the stored run is there, intact, and was
 * a call of the same root task with the same inputs (and the same code `version`, when one was
 * given). Otherwise it would return the stored run's outputs for another call.
 * @module
 */
import { inspect } from "node:util";
import type { AnyTask } from "../api/task.js";
import { parameterName } from "../cache/inputs.js";
import { RuntimeUserError } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import type { RunStore, StoredCall } from "../record/run-store.js";

/** The call a resume is asked to make. */
export interface ResumedCall {
  readonly task: AnyTask;
  readonly args: readonly unknown[];
  /** The canonical hash of `args` (`undefined` when they cannot be hashed: nothing to compare). */
  readonly inputsHash: string | undefined;
  readonly version: string | undefined;
}

/**
 * Throws unless run `name` in `store` was the same call as `call`: its root task, inputs and code
 * version. Codes: `RunNotFound`, `RunRecordDamaged`, `ResumeMismatch`.
 * @throws RuntimeUserError naming what differs and what to do.
 */
export function checkResume(store: RunStore, name: string, call: ResumedCall, home: string): void {
  const lookup = store.storedCall(name);
  switch (lookup.found) {
    case "none":
      throw new RuntimeUserError(
        `There is no run "${name}" to resume in ${home}. List the stored runs with \`flyte-ts runs ls\`.`,
        { code: "RunNotFound" },
      );
    case "damaged":
      throw new RuntimeUserError(
        `The stored record of run "${name}" in ${lookup.file} is damaged, so what it ran cannot be checked; it cannot be resumed. ` +
          "Start a new run (another `name`).",
        { code: "RunRecordDamaged" },
      );
    case "older":
      throw new RuntimeUserError(
        `Run "${name}" in ${lookup.file} was recorded by an older flyte-ts that did not keep its task's inputs, so a resume cannot check them. ` +
          "Start a new run (another `name`).",
        { code: "ResumeMismatch" },
      );
    case "call":
      break;
    default:
      lookup satisfies never;
  }
  const stored = lookup.call;
  const differences: string[] = [];
  if (stored.task !== call.task.name) {
    differences.push(`it was a run of task \`${stored.task}\`, not \`${call.task.name}\``);
  } else if (call.inputsHash !== undefined && stored.inputsHash !== call.inputsHash) {
    differences.push(
      stored.args === undefined
        ? "it was called with other inputs"
        : `it was called with ${describeArgs(call.task, stored.args)}, not ${describeArgs(call.task, call.args)}`,
    );
  }
  if ((stored.version ?? "") !== (call.version ?? "")) {
    differences.push(
      `it was recorded with code version ${quoted(stored.version)}, this run has ${quoted(call.version)}`,
    );
  }
  if (differences.length === 0) return;
  throw new RuntimeUserError(
    `Run "${name}" cannot be resumed by this call: ${differences.join("; ")}. A resume replays the stored outputs, which belong to the stored call. ` +
      `Resume it with the same task and inputs (\`flyte-ts run --resume ${name}\` with no task repeats the stored call), or start a new run (another \`name\`).`,
    { code: "ResumeMismatch" },
  );
}

/** `n = 10, label = "a"`: the inputs as a message shows them (short, secrets masked). */
export function describeArgs(task: AnyTask, args: readonly unknown[]): string {
  if (args.length === 0) return "no inputs";
  return args
    .map((arg, i) => {
      const shown = inspect(knownSecrets.maskValue(arg), {
        depth: 2,
        breakLength: Number.POSITIVE_INFINITY,
        maxArrayLength: 8,
        maxStringLength: 60,
      });
      const short = shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
      return `${parameterName(task, i)} = ${short}`;
    })
    .join(", ");
}

function quoted(version: string | undefined): string {
  return version === undefined ? "none" : `\`${version}\``;
}

/** The stored call of run `name`, for `flyte-ts run --resume <run>` without a task. */
export function storedCallOf(store: RunStore, name: string): StoredCall | undefined {
  const lookup = store.storedCall(name);
  return lookup.found === "call" ? lookup.call : undefined;
}
