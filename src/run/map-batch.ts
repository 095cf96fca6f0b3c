/**
 * Batched `flyte.map`: many small items go to workers in chunks, one sub-action (and one message)
 * per chunk instead of per item. Only for tasks whose per-item settings a chunk cannot change:
 * no cache, no retries, no timeout, a worker runtime, and no `concurrency` limit.
 * @module
 */
import { makeTask, type TaskTemplate } from "../api/task.js";
import { currentFrame } from "../context/context.js";
import { asCallerSees, type ErrorData, errorFromData, toTaskError } from "../errors.js";
import { batchTemplate, type ChunkOutcomes } from "../execution/batch.js";

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

const chunkTasks = new WeakMap<TaskTemplate, (items: unknown[]) => Promise<ChunkOutcomes>>();

/** The first failed item of a chunk, when the map does not return exceptions. */
export interface ChunkFailure {
  readonly index: number;
  readonly error: unknown;
}

/**
 * Calls `template` over `items` in chunks of `chunkSize`. Each item's value, or its error as a
 * sub-action's error would read, goes to `out[index]`; one promise per chunk (not per item)
 * resolves once its items are in place, with the chunk's first failure when `returnExceptions`
 * is off (items after it in the chunk are left unset).
 */
export function runChunks(
  template: TaskTemplate,
  items: readonly unknown[],
  chunkSize: number,
  out: unknown[],
  returnExceptions: boolean,
): Array<Promise<ChunkFailure | undefined>> {
  let chunkTask = chunkTasks.get(template);
  if (chunkTask === undefined) {
    chunkTask = makeTask(batchTemplate(template)) as unknown as (
      items: unknown[],
    ) => Promise<ChunkOutcomes>;
    chunkTasks.set(template, chunkTask);
  }
  const chunks: Array<Promise<ChunkFailure | undefined>> = [];
  for (let start = 0; start < items.length; start += chunkSize) {
    const chunk = items.slice(start, start + chunkSize);
    chunks.push(
      chunkTask(chunk).then(
        ({ values, errors }) => {
          let failedAt = values.length;
          let failure: ChunkFailure | undefined;
          const first = errors[0];
          if (first !== undefined && !returnExceptions) {
            failedAt = first[0];
            failure = { index: start + failedAt, error: itemError(first[1]) };
          }
          for (let i = 0; i < failedAt; i++) out[start + i] = values[i];
          if (returnExceptions) for (const [i, data] of errors) out[start + i] = itemError(data);
          return failure;
        },
        (error: unknown) => {
          if (!returnExceptions) return { index: start, error };
          for (let i = 0; i < chunk.length; i++) out[start + i] = error;
          return undefined;
        },
      ),
    );
  }
  return chunks;
}

/** An item's error as the caller of a sub-action would see it. */
function itemError(data: ErrorData): unknown {
  return asCallerSees(toTaskError(errorFromData(data)));
}
