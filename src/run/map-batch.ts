/**
 * Batched `flyte.map`: many small items go to workers in chunks, one sub-action (and one message)
 * per chunk instead of per item. Only for tasks whose per-item settings a chunk cannot change:
 * no cache, no retries, no timeout, a worker runtime, and no `concurrency` limit.
 * @module
 */
import { makeTask, type TaskTemplate } from "../api/task.js";
import { currentFrame } from "../context/context.js";
import { asCallerSees, errorFromData, toTaskError } from "../errors.js";
import { batchTemplate, type ItemOutcome } from "../execution/batch.js";

/** Fewer items than this are never batched. */
const minItems = 64;
/** Automatic chunks aim at this many per map, within [minChunk, maxChunk] items each. */
const targetChunks = 64;
const minChunk = 8;
const maxChunk = 1024;

/**
 * Items per chunk for a map of `count` items, or 1 (no batching).
 * `requested` is the map's `batchSize` option.
 */
export function chunkSizeFor(
  template: TaskTemplate,
  count: number,
  concurrency: number | undefined,
  requested: number | undefined,
): number {
  if (requested === 1 || currentFrame() === undefined) return 1;
  if (template.runtime === "inline" || concurrency) return 1;
  if (template.cache.isEnabled() || template.retries.count > 0) return 1;
  if (template.timeout.maxRuntimeMs !== undefined) return 1;
  if (requested !== undefined) return requested;
  if (count < minItems) return 1;
  return Math.min(maxChunk, Math.max(minChunk, Math.ceil(count / targetChunks)));
}

const chunkTasks = new WeakMap<TaskTemplate, (items: unknown[]) => Promise<ItemOutcome[]>>();

/**
 * Calls `template` over `items` in chunks of `chunkSize` and settles each item's own settler
 * with its value or its error (as a sub-action's error would read).
 */
export function runChunks(
  template: TaskTemplate,
  items: readonly unknown[],
  chunkSize: number,
  settle: (index: number, ok: boolean, value: unknown) => void,
): void {
  let chunkTask = chunkTasks.get(template);
  if (chunkTask === undefined) {
    chunkTask = makeTask(batchTemplate(template)) as unknown as (
      items: unknown[],
    ) => Promise<ItemOutcome[]>;
    chunkTasks.set(template, chunkTask);
  }
  for (let start = 0; start < items.length; start += chunkSize) {
    const chunk = items.slice(start, start + chunkSize);
    chunkTask(chunk).then(
      (outcomes) => {
        outcomes.forEach(([ok, value], i) => {
          settle(start + i, ok, ok ? value : asCallerSees(toTaskError(errorFromData(value))));
        });
      },
      (error) => {
        for (let i = 0; i < chunk.length; i++) settle(start + i, false, error);
      },
    );
  }
}
