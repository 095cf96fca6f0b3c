/**
 * How an action is named for people: its task's display name (`shortName`), else the function's
 * name with its leading inputs, `train(lr=0.01, seed=2)`, so that the bars of a sweep or the rows
 * of a benchmark matrix can be told apart. Used by the live view, the report and `runs show`.
 * @module
 */
import type { Parameter } from "../internal/parameters.js";
import type { RunEvent } from "./events.js";
import { recordedPreview } from "./recorded-value.js";

/** Inputs shown in a label before `…`. */
const LEADING_INPUTS = 3;
/** Characters of one input's value in a label. */
const VALUE_CHARS = 24;
/** Characters of a whole label. */
const LABEL_CHARS = 72;

/** The name of input `i`: its parameter's, or the rest parameter's for extra inputs. */
function inputName(parameters: readonly Parameter[] | undefined, i: number): string | undefined {
  if (parameters === undefined || parameters.length === 0) return undefined;
  const last = parameters[parameters.length - 1] as Parameter;
  if (i >= parameters.length - 1 && last.rest) return last.name;
  return parameters[i]?.name;
}

/**
 * The label of one action of `task` (`"<env>.<function>"`) called with `inputs`.
 *
 * @example
 * ```ts
 * actionLabel("ml.train", undefined, train.parameters, [0.01, 2]); // "train(lr=0.01, seed=2)"
 * ```
 */
export function actionLabel(
  task: string,
  displayName: string | undefined,
  parameters: readonly Parameter[] | undefined,
  inputs: readonly unknown[] | undefined,
): string {
  if (displayName !== undefined) return displayName;
  const fn = task.slice(task.indexOf(".") + 1);
  if (inputs === undefined || inputs.length === 0) return fn;
  const parts: string[] = [];
  for (let i = 0; i < Math.min(inputs.length, LEADING_INPUTS); i++) {
    const name = inputName(parameters, i);
    const value = recordedPreview(inputs[i], VALUE_CHARS);
    parts.push(name === undefined ? value : `${name}=${value}`);
  }
  if (inputs.length > LEADING_INPUTS) parts.push("…");
  const label = `${fn}(${parts.join(", ")})`;
  return label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 2)}…)` : label;
}

/** Each input with its parameter's name (`arg<i>` when unknown) and a preview of its value. */
export function namedInputs(
  parameters: readonly Parameter[] | undefined,
  inputs: readonly unknown[],
  maxChars?: number,
): { readonly name: string; readonly preview: string }[] {
  return inputs.map((value, i) => ({
    name: inputName(parameters, i) ?? `arg${i}`,
    preview: recordedPreview(value, maxChars),
  }));
}

type Queued = Extract<RunEvent, { type: "action-queued" }>;
type Finished = Extract<RunEvent, { type: "action-finished" }>;

/**
 * What is made once per event however many observers ask (the run record and the run store
 * both do), kept on the event under a symbol: a property costs less than a WeakMap entry, and
 * a symbol is not part of the event's data (JSON leaves it out).
 */
const made = Symbol("flyte-ts.event-previews");

type Memo = { [made]?: unknown };

/** The preview of an `action-finished` event's output, made once per event. */
export function outputPreview(event: Finished): string {
  const memo = event as Memo;
  let preview = memo[made] as string | undefined;
  if (preview === undefined) {
    preview = recordedPreview(event.output);
    memo[made] = preview;
  }
  return preview;
}

/**
 * The named previews of an `action-queued` event's inputs, made once per event however many
 * observers ask (the run record and the run store both do).
 */
export function inputPreviews(
  event: Queued,
): readonly { readonly name: string; readonly preview: string }[] {
  const memo = event as Memo;
  let previews = memo[made] as { readonly name: string; readonly preview: string }[] | undefined;
  if (previews === undefined) {
    previews = namedInputs(event.parameters, event.inputs ?? []);
    memo[made] = previews;
  }
  return previews;
}
