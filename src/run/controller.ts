/**
 * The controller: the spine of a run. For each call, in order: task → action id → resume replay
 * → cache → attempts (admission → dispatch) → record. Stage logic lives in its folder (cache/,
 * execution/, record/); this file only sequences.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import type { CacheStage } from "../cache/cache-stage.js";
import { hashInputs } from "../cache/inputs.js";
import { CallPacer, maxUnplacedAttempts } from "../context/call-pacer.js";
import type { ControllerChannel, MapItem, SubCall, TraceRecord } from "../context/context.js";
import { CustomContexts } from "../context/custom-context.js";
import { asCallerSees, errorToData, RunCancelledError, toTaskError } from "../errors.js";
import type { AttemptStage } from "../execution/attempt-stage.js";
import { batchTemplate, isBatch } from "../execution/batch.js";
import { resolveTask } from "../execution/task-loader.js";
import { shortId } from "../internal/hash.js";
import type { Clock } from "../internal/time.js";
import { actionLabel } from "../record/action-label.js";
import type { RunEvent } from "../record/events.js";
import type { Replay } from "../record/run-store.js";

/** The id of the root action of every run. */
export const rootActionId = "a0";

/** The run-wide facts the controller itself needs. */
export interface ControllerRun {
  readonly clock: Clock;
  readonly emit: (event: RunEvent) => void;
  /** The run's custom context (`withRunContext({ customContext })`). */
  readonly customContext: Readonly<Record<string, string>>;
  /** What a resumed run replays instead of running again. */
  readonly replay?: Replay | undefined;
}

/** The stages the controller sequences, made for the run. */
export interface ControllerStages {
  readonly cache: CacheStage;
  readonly attempts: AttemptStage;
}

/** Runs the actions of one run. */
export class Controller implements ControllerChannel {
  readonly #run: ControllerRun;
  /** Set once, right after construction (the attempt stage needs this controller as channel). */
  #stages: ControllerStages | undefined;
  /** Traced calls recorded per action, for the action's next attempt. */
  readonly #traces = new Map<string, Map<string, TraceRecord>>();
  /** The custom context of actions called inside `flyte.customContext`. */
  readonly #contexts: CustomContexts;
  /** The `flyte.map` item each queued sub-action is, when its map may be submitted together. */
  readonly #mapItems = new Map<string, MapItem>();
  /** Paces the calls of bodies (call-pacer.ts); the calls it holds are told as run events. */
  readonly pacer: CallPacer;

  constructor(run: ControllerRun) {
    this.#run = run;
    this.#contexts = new CustomContexts(run.customContext);
    this.pacer = new CallPacer({
      waiting: (count) => run.emit({ type: "calls-waiting", count, at: run.clock.now() }),
    });
  }

  /** Plugs in the stages; call once before submitting. */
  use(stages: ControllerStages): this {
    this.#stages = stages;
    // Calls wait in the pacer, not as issued attempts, while the pools' queues are full.
    const { attempts } = stages;
    this.pacer.holdWhile(() => attempts.unplaced >= maxUnplacedAttempts);
    attempts.onUnplacedFallTo(maxUnplacedAttempts / 2, () => this.pacer.wake());
    return this;
  }

  /** Runs the run's root task; `inputsHash` when the caller has hashed its inputs already. */
  submitRoot(
    template: TaskTemplate,
    args: readonly unknown[],
    inputsHash?: string,
  ): Promise<unknown> {
    const hash = inputsHash ?? hashInputs(template, args);
    return this.#action(rootActionId, undefined, template, args, hash, undefined);
  }

  /** Runs a sub-action called from a running task; the task is the one the call names. */
  submit(call: SubCall, known?: unknown): Promise<unknown> {
    const resolved =
      (known as TaskTemplate | undefined) ??
      resolveTask({ module: call.module, name: call.taskName, overrides: call.overrides });
    if (resolved instanceof Promise) return resolved.then((found) => this.#sub(call, found));
    return this.#sub(call, resolved);
  }

  recordTrace(action: string, traceId: string, record: TraceRecord): void {
    const traces = this.#traces.get(action) ?? new Map<string, TraceRecord>();
    this.#traces.set(action, traces.set(traceId, record));
    const at = this.#run.clock.now();
    this.#run.emit({ type: "trace-recorded", action, trace: traceId, ok: record.ok, at, record });
  }

  #sub(call: SubCall, found: TaskTemplate): Promise<unknown> {
    const template = call.batch && !isBatch(found) ? batchTemplate(found) : found;
    const group = call.group === undefined ? "" : `-${call.group}`;
    const id = shortId(`${call.parent}-${call.inputsHash}-${template.name}-${call.seq}${group}`);
    if (call.customContext !== undefined) this.#contexts.set(id, call.customContext);
    if (call.mapItem !== undefined) this.#mapItems.set(id, call.mapItem);
    return this.#action(id, call.parent, template, call.args, call.inputsHash, call.group);
  }

  async #action(
    id: string,
    parent: string | undefined,
    template: TaskTemplate,
    args: readonly unknown[],
    inputsHash: string,
    group: string | undefined,
  ): Promise<unknown> {
    const { emit, clock } = this.#run;
    const stages = this.#stages as ControllerStages;
    emit({
      type: "action-queued",
      action: id,
      parent,
      task: template.name,
      group,
      at: clock.now(),
      label: actionLabel(template.name, template.displayName, template.parameters, args),
      inputs: args,
      parameters: template.parameters,
      inputsHash,
    });
    try {
      const replayed = this.#replayed(id);
      const output =
        replayed !== undefined
          ? replayed.value
          : await stages.cache.run(id, template, args, inputsHash, () =>
              stages.attempts.run(id, template, args, {
                traces: () => this.#traces.get(id),
                customContext: this.#contexts.get(id),
                mapItem: this.#mapItems.get(id),
              }),
            );
      emit({ type: "action-finished", action: id, status: "succeeded", at: clock.now(), output });
      return output;
    } catch (thrown) {
      const error = toTaskError(thrown);
      const status = error instanceof RunCancelledError ? "cancelled" : "failed";
      emit({
        type: "action-finished",
        action: id,
        status,
        at: clock.now(),
        error: errorToData(error),
      });
      // The caller sees a task's error as upstream raises it (a NonRecoverableError as a
      // RuntimeUserError with its code).
      throw asCallerSees(error);
    } finally {
      this.#traces.delete(id);
      this.#contexts.delete(id);
      this.#mapItems.delete(id);
    }
  }

  /**
   * Resume: an action that finished in the resumed run returns its stored output; one that did
   * not starts with the traced calls it recorded there.
   */
  #replayed(id: string): { readonly value: unknown } | undefined {
    const replay = this.#run.replay;
    if (replay === undefined) return undefined;
    const stored = replay.output(id);
    if (stored !== undefined) {
      const at = this.#run.clock.now();
      this.#run.emit({ type: "action-cache-hit", action: id, at, source: "resume" });
      return stored;
    }
    const traces = replay.traces(id);
    if (traces !== undefined) this.#traces.set(id, new Map(traces));
    return undefined;
  }
}
