/**
 * What a Slurm job's state means for its attempt: which states wait, which pending reasons mean
 * the job can never start, and how an ended job becomes the attempt's outputs or error. Also
 * {@link LogTail}, which follows a job's output file into the run's logs.
 * @module
 */
import { existsSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { OOMError, RuntimeSystemError, TaskTimeoutError } from "../errors.js";
import type { ExecuteRequest } from "../execution/executor.js";
import type { Clock } from "../internal/time.js";
import { ERROR_FILE, OUTPUTS_FILE, readResult } from "./io.js";
import type { SlurmJobState } from "./slurm-submit.js";

/** States in which a job waits for its start (the attempt's "waiting" phase). */
export const queuedStates: ReadonlySet<string> = new Set([
  "PENDING",
  "CONFIGURING",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESV_DEL_HOLD",
  "SUSPENDED",
  "STOPPED",
]);

/** Pending reasons a job never leaves by waiting: its request does not fit the cluster's rules. */
const hopeless = new Set([
  "AccountNotAllowed",
  "BadConstraints",
  "DependencyNeverSatisfied",
  "InvalidAccount",
  "InvalidQOS",
  "PartitionConfig",
  "PartitionNodeLimit",
  "PartitionTimeLimit",
  "QOSNotAllowed",
]);

/** Whether a pending job with this reason can never start (a per-job maximum, a bad account...). */
export function neverRuns(reason: string | undefined): boolean {
  if (reason === undefined) return false;
  return hopeless.has(reason) || /^(QOS|Assoc)Max\w*Per(Job|Node)/.test(reason);
}

/** Follows a file as it grows, handing each new piece of text on. Reads are serialised. */
export class LogTail {
  readonly #path: string;
  readonly #write: (text: string) => void;
  readonly #decoder = new StringDecoder("utf8");
  #offset = 0;
  #reading: Promise<void> = Promise.resolve();

  constructor(path: string, write: (text: string) => void) {
    this.#path = path;
    this.#write = write;
  }

  /** Reads what was appended since the last read (nothing when the file does not exist yet). */
  read(): Promise<void> {
    this.#reading = this.#reading.then(() => this.#readMore()).catch(() => {});
    return this.#reading;
  }

  async #readMore(): Promise<void> {
    const file = await open(this.#path, "r").catch(() => undefined);
    if (file === undefined) return;
    try {
      const { size } = await file.stat();
      if (size <= this.#offset) return;
      const buffer = Buffer.alloc(size - this.#offset);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#offset);
      this.#offset += bytesRead;
      // The decoder keeps a character split across two reads until its rest arrives.
      const text = this.#decoder.write(buffer.subarray(0, bytesRead));
      if (text !== "") this.#write(text);
    } finally {
      await file.close();
    }
  }
}

/** The last `lines` lines of a file, or `""`. */
async function lastLines(path: string, lines: number): Promise<string> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Waits (up to 5 s) for the outputs or error file of an ended job: a shared filesystem (NFS)
 * may show a file written on the node a moment later here. Resolves whether one is there.
 */
async function resultWritten(folder: string, clock: Clock): Promise<boolean> {
  const written = () =>
    existsSync(join(folder, OUTPUTS_FILE)) || existsSync(join(folder, ERROR_FILE));
  for (let waitedMs = 0; waitedMs < 5_000; waitedMs += 250) {
    if (written()) return true;
    await new Promise<void>((resolve) => clock.setTimer(250, resolve));
  }
  return written();
}

/** `Task \`env.fn\` (action a1, attempt 0)`, for messages. */
export function describeAttempt(request: ExecuteRequest): string {
  const { context, template } = request;
  return `Task \`${template.name}\` (action ${context.action.name}, attempt ${context.attemptNumber})`;
}

/** What the attempt of an ended job resolves with: its outputs, its task's error, or what Slurm says. */
export async function jobOutcome(
  request: ExecuteRequest,
  submitted: { readonly jobId: string; readonly stderr: string; readonly outputs: string },
  state: SlurmJobState | undefined,
  clock: Clock,
): Promise<unknown> {
  const { jobId } = submitted;
  const what = `${describeAttempt(request)} (Slurm job ${jobId})`;
  const ended = state?.state ?? "gone";
  // A task that ran to its end wrote one of the two files, whatever Slurm's state says.
  const patient = ended === "COMPLETED" || ended === "FAILED" || ended === "gone";
  if (
    patient
      ? await resultWritten(submitted.outputs, clock)
      : existsSync(join(submitted.outputs, ERROR_FILE))
  ) {
    return readResult(submitted.outputs);
  }
  const tail = await lastLines(submitted.stderr, 20);
  const said = tail === "" ? "" : ` Its last lines of stderr (${submitted.stderr}):\n${tail}`;
  const reason = state?.reason === undefined ? "" : `, reason ${state.reason}`;
  switch (ended) {
    case "OUT_OF_MEMORY":
      return Promise.reject(
        new OOMError(
          `${what} ran out of memory: Slurm killed it at its --mem limit. Raise \`memory\` in its Resources.${said}`,
        ),
      );
    case "TIMEOUT":
    case "DEADLINE":
      return Promise.reject(
        new TaskTimeoutError(
          `${what} was stopped by Slurm at its time limit (${ended}${reason}). Raise \`timeout\` on the task.${said}`,
        ),
      );
    case "CANCELLED":
      return Promise.reject(
        new RuntimeSystemError(
          `${what} was cancelled outside flyte-ts (scancel, or an administrator).${said}`,
        ),
      );
    case "gone":
      return Promise.reject(
        new RuntimeSystemError(
          `${what} is no longer known to Slurm and left neither ${OUTPUTS_FILE} nor ${ERROR_FILE} in ${submitted.outputs}. ` +
            `Check that the folder is on a filesystem the nodes share with this host.${said}`,
        ),
      );
    default:
      return Promise.reject(
        new RuntimeSystemError(
          `${what} ended ${ended}${reason} without writing ${OUTPUTS_FILE} or ${ERROR_FILE} in ${submitted.outputs}. ` +
            `Check that the nodes see this host's project and data folders at the same paths, and can run \`node\`.${said}`,
        ),
      );
  }
}
