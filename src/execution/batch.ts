/**
 * Batches: one attempt that runs a task's body once per item of a chunk, for `flyte.map` over
 * many small items (one message per chunk instead of one per item). Each item's outcome is kept
 * apart, so one item's failure is that item's result only.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { type ErrorData, errorToData } from "../errors.js";

/**
 * A chunk's outcomes: every item's value in item order (`undefined` where it failed) and the
 * failed items as `[index in the chunk, error as data]`. Two flat arrays rather than a pair per
 * item: the chunk is cloned to the controller and recorded whole, and a pair per item cost a
 * third of a 100k-item map's time.
 */
export interface ChunkOutcomes {
  readonly values: unknown[];
  readonly errors: Array<readonly [number, ErrorData]>;
}

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
): Promise<ChunkOutcomes> {
  const body = func as (...args: unknown[]) => unknown;
  // Pushed, never preallocated: a holey array is cloned element by element as a sparse one.
  const values: unknown[] = [];
  const errors: Array<readonly [number, ErrorData]> = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    try {
      values.push(await (spread ? body(...(item as unknown[])) : body(item)));
    } catch (error) {
      values.push(undefined);
      errors.push([i, errorToData(error)]);
    }
  }
  return { values, errors };
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
