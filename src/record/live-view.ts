/**
 * How `flyte-ts run` shows a run while it goes: a tree redrawn in place on a terminal (at most
 * 10 times a second), one line per event when the output is not a terminal, one JSON object per
 * line with `--json`, nothing with `--quiet`; then a summary.
 * @module
 */

import { formatMs } from "../internal/time.js";
import { errorSource, errorText } from "./error-source.js";
import { eventJson } from "./event-json.js";
import type { RunEvent } from "./events.js";
import { type LogEntry, writeDirect } from "./logs.js";
import { actionLine, headerLine, Progress, shortTask, summaryLine, treeLines } from "./progress.js";

/** Which view `flyte-ts run` uses. */
export type ViewMode = "tty" | "plain" | "json" | "quiet";

/** A view of one run. */
export interface LiveView {
  /** Receives the run's events. */
  readonly onEvent: (event: RunEvent) => void;
  /** Receives task output; set only when the view shows it (`--logs`). */
  readonly onLog: ((entry: LogEntry) => void) | undefined;
  /** Draws the last frame and the summary; `reportPath` is where the report was written. */
  finish(reportPath: string | undefined): void;
}

/** Where a view writes and what it knows of the terminal. */
export interface ViewOutput {
  /** Writes text (the real stream, bypassing task output capture). */
  readonly write: (text: string) => void;
  /** Terminal columns. @default 100 */
  readonly columns?: number;
  /** Terminal rows. @default 30 */
  readonly rows?: number;
  /** The time now, in milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

/** Options of {@link createLiveView}. */
export interface LiveViewOptions {
  readonly mode: ViewMode;
  /** Show task output, prefixed by action. @default false */
  readonly logs?: boolean;
  /** Where the view writes. @default stderr (JSON mode: stdout) */
  readonly output?: ViewOutput;
  /** Shortest time between two terminal redraws, in milliseconds. @default 100 */
  readonly redrawMs?: number;
}

/** Picks the view for the streams: a tree on a terminal, plain lines otherwise. */
export function defaultViewMode(stream: NodeJS.WriteStream = process.stderr): ViewMode {
  return stream.isTTY ? "tty" : "plain";
}

/** Creates the view for `options.mode`. */
export function createLiveView(options: LiveViewOptions): LiveView {
  const stream = options.mode === "json" ? process.stdout : process.stderr;
  const output: ViewOutput = options.output ?? {
    write: (text) => writeDirect(stream, text),
    columns: stream.columns,
    rows: stream.rows,
  };
  switch (options.mode) {
    case "quiet":
      return { onEvent: () => {}, onLog: undefined, finish: () => {} };
    case "json":
      return jsonView(output, options.logs ?? false);
    case "plain":
      return plainView(output, options.logs ?? false);
    case "tty":
      return new TerminalView(output, options.logs ?? false, options.redrawMs ?? 100);
    default:
      return options.mode satisfies never;
  }
}

/** Splits chunks into whole lines per action, prefixed `[task id] `. */
class LinePrefixer {
  readonly #partial = new Map<string, string>();
  readonly #progress: Progress;

  constructor(progress: Progress) {
    this.#progress = progress;
  }

  lines(entry: LogEntry): string[] {
    const text = (this.#partial.get(entry.action) ?? "") + entry.text;
    const parts = text.split("\n");
    this.#partial.set(entry.action, parts.pop() ?? "");
    return parts.map((line) => `${this.#prefix(entry.action)}${line}`);
  }

  rest(): string[] {
    const lines = [...this.#partial]
      .filter(([, text]) => text !== "")
      .map(([action, text]) => `${this.#prefix(action)}${text}`);
    this.#partial.clear();
    return lines;
  }

  #prefix(action: string): string {
    const task = this.#progress.action(action)?.task ?? "";
    return `[${shortTask(task)} ${action}] `;
  }
}

function jsonView(output: ViewOutput, logs: boolean): LiveView {
  return {
    onEvent: (event) => output.write(`${eventJson(event)}\n`),
    onLog: logs
      ? (entry) => output.write(`${JSON.stringify({ type: "log", ...entry })}\n`)
      : undefined,
    finish: () => {},
  };
}

function plainView(output: ViewOutput, logs: boolean): LiveView {
  const progress = new Progress();
  const prefixer = new LinePrefixer(progress);
  const at = (ms: number) => `[${formatMs(ms - (progress.startedAt ?? ms)).padStart(6)}]`;
  const line = (ms: number, text: string) => output.write(`${at(ms)} ${text}\n`);
  const onEvent = (event: RunEvent) => {
    progress.observe(event);
    const action = "action" in event ? progress.action(event.action) : undefined;
    switch (event.type) {
      case "run-started":
        return line(event.at, `run ${event.run} started: ${event.task}`);
      case "attempt-phase": {
        if (action === undefined || event.phase !== "running") return;
        const attempt = action.attempts - 1;
        const retry = attempt > 0 ? ` retry ${attempt}` : "";
        const where = [action.lane, ...action.devices].filter((w) => w !== undefined);
        const on = where.length === 0 ? "" : ` on ${where.join(" ")}`;
        return line(
          event.at,
          `▶ ${action.label ?? shortTask(action.task)} ${action.id}${retry}${on}`,
        );
      }
      case "attempt-finished": {
        if (action === undefined || event.error === undefined) return;
        // A cancelled attempt is shown by its action's line; a child's error is shown once, at the child.
        const shown = errorText(action, shortTask);
        if (shown === undefined) return;
        const what = errorSource(action) === undefined ? `${event.error.name}: ${shown}` : shown;
        return line(
          event.at,
          `⚠ ${action.label ?? shortTask(action.task)} ${action.id} attempt ${event.attempt} failed: ${what}`,
        );
      }
      case "action-finished":
        if (action === undefined) return;
        return line(event.at, actionLine(action, event.at));
      default:
        return;
    }
  };
  return {
    onEvent,
    onLog: logs
      ? (entry) => {
          for (const text of prefixer.lines(entry)) output.write(`${text}\n`);
        }
      : undefined,
    finish: (reportPath) => {
      for (const text of prefixer.rest()) output.write(`${text}\n`);
      output.write(`${summaryLine(progress, reportPath)}\n`);
    },
  };
}

const hideCursor = "\x1b[?25l";
const showCursor = "\x1b[?25h";
const clearLineEnd = "\x1b[K";
const clearBelow = "\x1b[J";

/**
 * The terminal view: the header and the action tree, redrawn in place when something changed,
 * at most once per `redrawMs`. Each frame is one write that moves to the frame's first line and
 * overwrites it line by line, so nothing blinks.
 */
class TerminalView implements LiveView {
  readonly progress = new Progress();
  readonly onLog: ((entry: LogEntry) => void) | undefined;
  readonly #output: ViewOutput;
  readonly #prefixer = new LinePrefixer(this.progress);
  readonly #redrawMs: number;
  readonly #now: () => number;
  #pendingLogs: string[] = [];
  #drawnLines = 0;
  #timer: NodeJS.Timeout | undefined;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  readonly #showCursor = () => this.#output.write(showCursor);

  constructor(output: ViewOutput, logs: boolean, redrawMs: number) {
    this.#output = output;
    this.#redrawMs = redrawMs;
    this.#now = output.now ?? Date.now;
    this.onLog = logs
      ? (entry) => {
          this.#pendingLogs.push(...this.#prefixer.lines(entry));
          this.#schedule();
        }
      : undefined;
  }

  readonly onEvent = (event: RunEvent): void => {
    this.progress.observe(event);
    if (event.type === "run-started") {
      this.#output.write(hideCursor);
      // Give the cursor back even if the process ends without finishing the view.
      process.once("exit", this.#showCursor);
    }
    this.#schedule();
  };

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const waitMs = Math.max(0, this.#lastDrawAt + this.#redrawMs - this.#now());
    // A steady tick while the run goes keeps elapsed times moving; it never keeps Node alive.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
      this.#schedule();
    }, waitMs);
    this.#timer.unref();
  }

  #frame(): string[] {
    const now = this.#now();
    const columns = Math.max(20, this.#output.columns ?? 100);
    const rows = Math.max(4, this.#output.rows ?? 30);
    let lines = [headerLine(this.progress, now), ...treeLines(this.progress, now)];
    if (lines.length > rows - 1) {
      const hidden = lines.length - (rows - 2);
      lines = [...lines.slice(0, rows - 2), `  … ${hidden} more lines`];
    }
    return lines.map((line) =>
      line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line,
    );
  }

  #draw(): void {
    this.#lastDrawAt = this.#now();
    const up = this.#drawnLines > 0 ? `\r\x1b[${this.#drawnLines}A` : "\r";
    const logs = this.#pendingLogs.map((line) => `${line}${clearLineEnd}\n`).join("");
    this.#pendingLogs = [];
    const frame = this.#frame();
    this.#output.write(
      `${up}${logs}${frame.map((line) => `${line}${clearLineEnd}\n`).join("")}${clearBelow}`,
    );
    this.#drawnLines = frame.length;
  }

  finish(reportPath: string | undefined): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pendingLogs.push(...this.#prefixer.rest());
    this.#draw();
    this.#output.write(`${summaryLine(this.progress, reportPath)}\n`);
    this.#showCursor();
    process.removeListener("exit", this.#showCursor);
  }
}
