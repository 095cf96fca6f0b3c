/**
 * Batches: one attempt that runs a task's body once per item of a chunk, for `flyte.map` over
 * many small items (one message per chunk instead of one per item). Each item's outcome is kept
 * apart, so one item's failure is that item's result only.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { type ErrorData, errorToData } from "../errors.js";

/** One item's outcome in a chunk: `[true, value]` or `[false, error as data]`. */
export type ItemOutcome = readonly [true, unknown] | readonly [false, ErrorData];

/** A template whose body runs its base task over a chunk of items (see `batchTemplate`). */
export interface BatchTemplate extends TaskTemplate {
  /** The task each item is a call of. */
  readonly batchOf: TaskTemplate;
}

/** Whether `template` runs chunks. */
export function isBatch(template: TaskTemplate): template is BatchTemplate {
  return (template as Partial<BatchTemplate>).batchOf !== undefined;
}

/** Whether a task's items are passed as argument lists (several parameters, or a rest one). */
export function spreadsItems(template: Pick<TaskTemplate, "parameters">): boolean {
  return template.parameters.length > 1 || template.parameters[0]?.rest === true;
}

/** Runs `func` once per item, one after another, and returns each item's outcome in order. */
export async function runChunk(
  func: Function,
  spread: boolean,
  items: readonly unknown[],
): Promise<ItemOutcome[]> {
  const body = func as (...args: unknown[]) => unknown;
  const outcomes: ItemOutcome[] = [];
  for (const item of items) {
    try {
      outcomes.push([true, await (spread ? body(...(item as unknown[])) : body(item))]);
    } catch (error) {
      outcomes.push([false, errorToData(error)]);
    }
  }
  return outcomes;
}

const batches = new WeakMap<TaskTemplate, BatchTemplate>();

/** The chunk-running template of `template` (one per task). */
export function batchTemplate(template: TaskTemplate): BatchTemplate {
  let batch = batches.get(template);
  if (batch === undefined) {
    const spread = spreadsItems(template);
    batch = Object.freeze({
      ...template,
      func: (items: readonly unknown[]) => runChunk(template.func, spread, items),
      isAsync: true,
      parameters: [{ name: "items", optional: false, rest: false }],
      batchOf: template,
    });
    batches.set(template, batch);
  }
  return batch;
}
