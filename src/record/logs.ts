/**
 * Each action's stdout and stderr, captured into the run's folder as `logs.jsonl` (one JSON line
 * per write: action, stream, time, text). Inline bodies are captured by attributing writes to the
 * current frame; worker pools feed the same {@link LogSink} with their workers' output.
 * Known secret values are masked in what is stored and what is echoed. Output that cannot be
 * stored (a full disk) is still shown on the terminal, and the loss is noted for the run's one
 * "not recorded" warning; it never fails the run.
 * @module
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { currentFrame } from "../context/context.js";
import { notRecorded } from "../internal/not-recorded.js";
import { knownSecrets } from "../internal/secret-mask.js";

/** Which of a task's output streams a chunk came from. */
export type LogStream = "stdout" | "stderr";

/** One chunk of an action's output, as stored in `logs.jsonl`. */
export interface LogEntry {
  /** The action's id (`"a0"` for the root). */
  readonly action: string;
  readonly stream: LogStream;
  /** When it was written, in milliseconds since the epoch. */
  readonly at: number;
  readonly text: string;
}

/**
 * Where a task's output goes. The thread and process pools call `write` with each chunk their
 * worker prints while it runs an attempt: `logs.write(request.context.action.name, "stderr", chunk)`.
 */
export interface LogSink {
  write(action: string, stream: LogStream, text: string): void;
  /** Whether captured output is also passed through to the terminal. @default true */
  readonly echo?: boolean;
}

/** Receives each captured chunk as it is written (the CLI's `--logs` view). */
export type LogObserver = (entry: LogEntry) => void;

/** The file name of a run's captured output inside its folder. */
export const logsFileName = "logs.jsonl";

/** Appends one run's captured output to `<dir>/logs.jsonl`; opens the file at the first write. */
export class RunLogs implements LogSink {
  readonly #dir: string;
  readonly #observer: LogObserver | undefined;
  readonly #now: () => number;
  #file: WriteStream | undefined;
  /** Set once the file cannot be written: later output is only shown. */
  #failed = false;
  readonly echo: boolean;

  constructor(
    dir: string,
    options: { observer?: LogObserver; now?: () => number; echo?: boolean } = {},
  ) {
    this.#dir = dir;
    this.echo = options.echo ?? true;
    this.#observer = options.observer;
    this.#now = options.now ?? Date.now;
  }

  write(action: string, stream: LogStream, text: string): void {
    if (text.length === 0) return;
    const entry: LogEntry = { action, stream, at: this.#now(), text: knownSecrets.maskText(text) };
    if (this.#failed) this.#lost(entry);
    else {
      try {
        if (this.#file === undefined) {
          mkdirSync(this.#dir, { recursive: true });
          const file = createWriteStream(join(this.#dir, logsFileName), { flags: "a" });
          file.on("error", (error) => this.#fail(error));
          this.#file = file;
        }
        this.#file.write(`${JSON.stringify(entry)}\n`, (error) => {
          if (error) this.#lost(entry);
        });
      } catch (error) {
        this.#fail(error);
        this.#lost(entry);
      }
    }
    try {
      this.#observer?.(entry);
    } catch {
      // An observer that throws must not break the task that printed.
    }
  }

  /** Flushes and closes the file; never rejects (a failed write is noted, not thrown). */
  close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined || file.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      file.once("error", () => resolve());
      file.once("close", () => resolve());
      file.end();
    });
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    notRecorded.note(`the task output log (${join(this.#dir, logsFileName)})`, error);
  }

  /** Output that could not be stored is still shown, unless it was shown already. */
  #lost(entry: LogEntry): void {
    if (this.echo || this.#observer !== undefined) return;
    writeDirect(entry.stream === "stderr" ? process.stderr : process.stdout, entry.text);
  }
}

/**
 * Reads a run folder's captured output, optionally of one action only; `[]` when the run
 * captured nothing.
 */
export async function readLogs(dir: string, action?: string): Promise<LogEntry[]> {
  let text: string;
  try {
    text = await readFile(join(dir, logsFileName), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const entries: LogEntry[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const entry = JSON.parse(line) as LogEntry;
    if (action === undefined || entry.action === action) entries.push(entry);
  }
  return entries;
}

type Write = NodeJS.WriteStream["write"];

interface Capture {
  readonly sink: LogSink;
  readonly echo: boolean;
}

const originals = new Map<NodeJS.WriteStream, Write>();
const captures = new Map<string, Capture>();
let observing = 0;

/**
 * Calls `fn(arg)` (a run's event observers) so that what it writes is never taken for the output
 * of the task whose call emitted the event. Cheaper than leaving the frame; observers are
 * synchronous.
 */
export function whileObserving<A>(fn: (arg: A) => void, arg: A): void {
  observing++;
  try {
    fn(arg);
  } finally {
    observing--;
  }
}

/**
 * Writes to the real stream, bypassing capture: for the CLI's own output (live view, JSON
 * events), which may be produced while a task's frame is current.
 */
export function writeDirect(stream: NodeJS.WriteStream, text: string): void {
  const write = originals.get(stream) ?? stream.write;
  write.call(stream, text);
}

function intercept(stream: NodeJS.WriteStream, name: LogStream): void {
  const original = stream.write;
  originals.set(stream, original);
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const frame = observing > 0 ? undefined : currentFrame();
    const capture = frame && captures.get(frame.context.action.runName);
    if (frame === undefined || capture === undefined) {
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    }
    const text =
      typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
    capture.sink.write(frame.report?.action ?? frame.context.action.name, name, text);
    if (capture.echo) {
      // Known secrets never reach the terminal either (in a worker, those its environment names).
      const shown = knownSecrets.maskText(text);
      const out = shown === text ? chunk : shown;
      return (original as (...a: unknown[]) => boolean).call(this, out, ...rest);
    }
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    if (callback) queueMicrotask(callback);
    return true;
  } as Write;
}

/**
 * Captures what inline task bodies of run `runName` write to `process.stdout` and
 * `process.stderr` into `sink`, also passing it through when `echo`. Returns the function that
 * stops the capture.
 */
export function captureInlineOutput(runName: string, sink: LogSink, echo: boolean): () => void {
  if (originals.size === 0) {
    intercept(process.stdout, "stdout");
    intercept(process.stderr, "stderr");
  }
  const capture: Capture = { sink, echo };
  captures.set(runName, capture);
  return () => {
    if (captures.get(runName) === capture) captures.delete(runName);
    if (captures.size > 0) return;
    for (const [stream, write] of originals) stream.write = write;
    originals.clear();
  };
}
