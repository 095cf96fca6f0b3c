/**
 * The Slurm executor: runs offloaded attempts as Slurm batch jobs. Each attempt is a job (the
 * controller owns retries); the first attempts of one `flyte.map`'s items are one job array.
 * A job's states become the attempt's phases (PENDING: waiting; RUNNING: running, on lane
 * `slurm:<node>`), its output files flow into the run's logs, cancelling the attempt runs
 * `scancel`, and its outputs or error are read back from the run's shared data folder.
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Slurm } from "../api/slurm.js";
import type { TaskTemplate } from "../api/task.js";
import { DeploymentError, TaskTimeoutError } from "../errors.js";
import type { ExecuteRequest, Executor } from "../execution/executor.js";
import { sha256Hex } from "../internal/hash.js";
import { type Clock, formatMs } from "../internal/time.js";
import { type LogStream, writeDirect } from "../record/logs.js";
import { writeInputs } from "./io.js";
import { actionPaths, batchScript, type SlurmItem } from "./slurm.js";
import { ArrayGatherer } from "./slurm-array.js";
import { describeAttempt, jobOutcome, LogTail, neverRuns, queuedStates } from "./slurm-outcome.js";
import { type SlurmCommands, sbatch, scancel, slurmCommands } from "./slurm-submit.js";
import { SlurmWatcher, type WatchTiming } from "./slurm-watch.js";

/** The run settings a {@link SlurmExecutor} needs. */
export interface SlurmRunSettings {
  readonly runName: string;
  /** Where batch scripts are written for the record (`copyBundleTo`). */
  readonly emitDir: string;
  /** The run's data folder; inputs, outputs and job logs go under `<rawDataPath>/offload`. */
  readonly rawDataPath: string;
  readonly customContext: Readonly<Record<string, string>>;
  readonly version: string | undefined;
  readonly clock: Clock;
  /** The project folder the jobs run in. @default the working directory */
  readonly root?: string;
  /** Polling of job states (tests shorten it). */
  readonly watchTiming?: Partial<WatchTiming>;
  /** Runs Slurm's commands. @default sbatch, squeue and scancel where the cluster says */
  readonly commands?: SlurmCommands;
  /**
   * The run's `.flyte` folder: the job's `FLYTE_TS_HOME`, so it shares the run's cache and reads
   * secrets from its `secrets.env` on the shared filesystem. @default the job's own `./.flyte`
   */
  readonly home?: string | undefined;
}

/** One attempt, ready to be submitted. */
interface Prepared {
  readonly request: ExecuteRequest;
  readonly item: SlurmItem;
}

/** A submitted attempt: its job and its files. */
interface Submitted {
  /** `"123"`, or `"123_4"` for item 4 of an array. */
  readonly jobId: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: string;
}

/** Runs attempts as Slurm batch jobs on one cluster. */
export class SlurmExecutor implements Executor {
  readonly remote = true;
  /** It calls `placed` and `started` itself, when its job is seen RUNNING. */
  readonly reportsPhases = true;
  readonly #cluster: Slurm;
  readonly #settings: SlurmRunSettings;
  readonly #commands: SlurmCommands;
  readonly #watcher: SlurmWatcher;
  readonly #dataDir: string;
  readonly #root: string;
  readonly #arrays: ArrayGatherer<Prepared, Submitted>;
  /** Jobs submitted and not yet seen to end. */
  readonly #live = new Set<string>();
  readonly #cancelling = new Set<Promise<void>>();
  /** Jobs to cancel with the next `scancel` (a cancelled run's attempts all abort at once). */
  #toCancel: string[] = [];

  constructor(cluster: Slurm, settings: SlurmRunSettings) {
    this.#cluster = cluster;
    this.#settings = settings;
    this.#commands = settings.commands ?? slurmCommands(cluster);
    this.#watcher = new SlurmWatcher(this.#commands, settings.clock, settings.watchTiming);
    this.#dataDir = join(settings.rawDataPath, "offload");
    this.#root = resolve(settings.root ?? process.cwd());
    this.#arrays = new ArrayGatherer(settings.clock, (items) => this.#submitArray(items));
  }

  async execute(request: ExecuteRequest): Promise<unknown> {
    const { context } = request;
    const item = { actionName: context.action.name, attempt: context.attemptNumber };
    await writeInputs(actionPaths(this.#dataDir, item).inputs, {
      args: request.args,
      customContext: this.#settings.customContext,
    });
    if (request.abort.aborted) throw request.abort.reason;
    const prepared: Prepared = { request, item };
    const submitted =
      request.mapItem !== undefined && item.attempt === 0
        ? await this.#arrays.add(request.mapItem, prepared, request.abort.signal)
        : await this.#submitOne(prepared);
    return this.#follow(request, submitted);
  }

  /** Cancels every job still running and waits for the `scancel` calls. */
  async close(): Promise<void> {
    if (this.#live.size > 0) this.#cancel([...this.#live]);
    await Promise.all([...this.#cancelling]);
    this.#watcher.stop();
  }

  async #submitOne(prepared: Prepared): Promise<Submitted> {
    const { item, request } = prepared;
    const paths = actionPaths(this.#dataDir, item);
    const base = join(this.#dataDir, "actions", item.actionName, `slurm-attempt-${item.attempt}`);
    const stdout = `${base}.out`;
    const stderr = `${base}.err`;
    const script = batchScript({
      ...this.#scriptSettings(request.template),
      items: [item],
      jobName: jobName(this.#settings.runName, item.actionName),
      stdout,
      stderr,
    });
    const file = join(
      this.#settings.emitDir,
      "actions",
      item.actionName,
      `job-attempt-${item.attempt}.sbatch`,
    );
    const jobId = await this.#sbatch(file, script, stdout, request, describeAttempt(request));
    this.#live.add(jobId);
    return { jobId, stdout, stderr, outputs: paths.outputs };
  }

  async #submitArray(items: readonly Prepared[]): Promise<Submitted[]> {
    if (items.length === 1) return [await this.#submitOne(items[0] as Prepared)];
    const first = items[0] as Prepared;
    const key = sha256Hex(first.request.mapItem?.map ?? first.item.actionName).slice(0, 12);
    const dir = join(this.#dataDir, "arrays", key);
    const script = batchScript({
      ...this.#scriptSettings(first.request.template),
      items: items.map((p) => p.item),
      concurrency: first.request.mapItem?.concurrency ?? 0,
      jobName: jobName(this.#settings.runName, `${first.request.template.shortName}-map`),
      stdout: join(dir, "%a.out"),
      stderr: join(dir, "%a.err"),
    });
    const what = `the ${items.length} items of flyte.map over task \`${first.request.template.name}\` (a job array)`;
    const file = join(this.#settings.emitDir, "arrays", `${key}.sbatch`);
    const jobId = await this.#sbatch(file, script, dir, first.request, what);
    for (let index = 0; index < items.length; index++) this.#live.add(`${jobId}_${index}`);
    return items.map((p, index) => ({
      jobId: `${jobId}_${index}`,
      stdout: join(dir, `${index}.out`),
      stderr: join(dir, `${index}.err`),
      outputs: actionPaths(this.#dataDir, p.item).outputs,
    }));
  }

  #scriptSettings(template: TaskTemplate) {
    return {
      template,
      cluster: this.#cluster,
      runName: this.#settings.runName,
      root: this.#root,
      dataDir: this.#dataDir,
      rawDataPath: this.#settings.rawDataPath,
      ...(this.#settings.version === undefined ? {} : { version: this.#settings.version }),
    };
  }

  /**
   * Writes the script for the record, makes the folder of its log files (Slurm does not, and a
   * job whose log cannot be opened fails at once), and submits it.
   */
  async #sbatch(
    file: string,
    script: string,
    logs: string,
    request: ExecuteRequest,
    what: string,
  ): Promise<string> {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, script);
    await mkdir(logs.endsWith(".out") ? dirname(logs) : logs, { recursive: true });
    const home = this.#settings.home;
    const env = home === undefined ? request.env : { ...request.env, FLYTE_TS_HOME: home };
    try {
      return await sbatch(this.#commands, this.#cluster, script, env, what);
    } catch (error) {
      const code = (error as DeploymentError).code;
      if (code !== "NoSbatch" && code !== "SlurmUnreachable") throw error;
      throw new DeploymentError(
        `${(error as Error).message}\nflyte-ts wrote the batch script, ${file}: \`sbatch ${file}\` submits it where Slurm runs (with the task's envVars in the environment).`,
        { code, cause: error },
      );
    }
  }

  /** Follows a submitted attempt's job to its end and settles with its outputs or error. */
  #follow(request: ExecuteRequest, submitted: Submitted): Promise<unknown> {
    const { jobId } = submitted;
    const { abort, template } = request;
    const action = request.context.action.name;
    const echo = request.logs?.echo ?? true;
    const forward = (stream: LogStream) => (text: string) => {
      request.logs?.write(action, stream, text);
      if (echo) writeDirect(process[stream], text);
    };
    const tails = [
      new LogTail(submitted.stdout, forward("stdout")),
      new LogTail(submitted.stderr, forward("stderr")),
    ];
    const drain = () => Promise.all(tails.map((tail) => tail.read()));
    return new Promise((resolvePromise, reject) => {
      let settled = false;
      let running = false;
      let stopWatching = () => {};
      let cancelQueueTimer = () => {};
      let stopListening = () => {};
      const settle = (outcome: () => Promise<unknown>, cancel: boolean) => {
        if (settled) return;
        settled = true;
        stopWatching();
        cancelQueueTimer();
        stopListening();
        if (cancel) this.#cancel([jobId]);
        else this.#forget(jobId);
        void drain().then(outcome).then(resolvePromise, reject);
      };
      const fail = (error: unknown, cancel = true) => settle(() => Promise.reject(error), cancel);
      if (abort.aborted) return fail(abort.reason);
      stopListening = abort.onAbort(() => fail(abort.reason));
      const queuedMs = template.timeout.maxQueuedTimeMs;
      if (queuedMs !== undefined) {
        cancelQueueTimer = this.#settings.clock.setTimer(queuedMs, () => {
          if (running) return;
          fail(
            new TaskTimeoutError(
              `${describeAttempt(request)} waited in Slurm's queue (job ${jobId}) longer than its maxQueuedTime of ${formatMs(queuedMs)}; the job was cancelled. ` +
                "Raise `timeout.maxQueuedTime`, or ask for less (`sinfo` shows what the partition has).",
            ),
          );
        });
      }
      stopWatching = this.#watcher.watch(jobId, (state, error) => {
        if (error !== undefined) return fail(error);
        if (state === undefined || !queuedStates.has(state.state)) void drain();
        if (state !== undefined && queuedStates.has(state.state)) {
          const refused = neverRuns(state.reason);
          if (refused) {
            fail(
              new DeploymentError(
                `Slurm will never start ${describeAttempt(request)} (job ${jobId} is pending with reason ${state.reason}); it was cancelled. ` +
                  "Check the task's Resources and timeout, and the partition, account and qos of flyte.Slurm, against `sinfo` and `scontrol show partition`.",
                { code: "SlurmRefused" },
              ),
            );
          }
          return;
        }
        if (state !== undefined && (state.state === "RUNNING" || state.state === "COMPLETING")) {
          if (!running) {
            running = true;
            cancelQueueTimer();
            request.placed?.(`slurm:${state.node ?? "unknown"}`);
            request.started?.();
          }
          return;
        }
        // A short job can end between two polls: one that ended on a node ran there, unseen.
        if (!running && state?.node !== undefined) {
          running = true;
          request.placed?.(`slurm:${state.node}`);
          request.started?.();
        }
        settle(() => jobOutcome(request, submitted, state, this.#settings.clock), false);
      });
    });
  }

  #forget(jobId: string): void {
    this.#live.delete(jobId);
  }

  /** Cancels jobs, with one `scancel` for all asked for in the same turn; {@link close} waits for it. */
  #cancel(ids: readonly string[]): void {
    for (const id of ids) this.#live.delete(id);
    if (this.#toCancel.push(...ids) > ids.length) return;
    const cancelling = new Promise<void>((resolveTurn) => setImmediate(resolveTurn))
      .then(() => {
        const batch = this.#toCancel;
        this.#toCancel = [];
        return scancel(this.#commands, batch);
      })
      .finally(() => this.#cancelling.delete(cancelling));
    this.#cancelling.add(cancelling);
  }
}

/** A job name Slurm shows in `squeue`: `flyte-<run>-<what>`, letters, digits, `_.-` only. */
function jobName(runName: string, what: string): string {
  return `flyte-${runName}-${what}`.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 120);
}
