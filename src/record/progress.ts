/**
 * The live view's model: a run's actions as a tree, built from its events, and drawn as lines —
 * children grouped by `flyte.group` (or by task), large groups collapsed to one line of counts.
 * @module
 */
import type { ErrorData } from "../errors.js";
import { formatMs } from "../internal/time.js";
import { errorText } from "./error-source.js";
import type { RunEvent, RunStatus } from "./events.js";

/** What the view shows for an action. */
export type ProgressState =
  | "queued"
  | "waiting"
  | "running"
  | "retrying"
  | "succeeded"
  | "cached"
  | "failed"
  | "cancelled";

/** One action as the live view knows it. */
export interface ProgressAction {
  readonly id: string;
  readonly parent: string | undefined;
  readonly task: string;
  readonly group: string | undefined;
  state: ProgressState;
  attempts: number;
  readonly queuedAt: number;
  /** When the current (or last) attempt's body started running. */
  startedAt?: number;
  /** When the last attempt ended. */
  ranUntil?: number;
  endedAt?: number;
  devices: readonly string[];
  /** The worker the current attempt was placed on. */
  lane?: string;
  error?: ErrorData;
  /** Answered by the resumed run's stored output: done, but neither run nor a cache hit. */
  resumed?: boolean;
  /** How people see it: `shortName`, or `train(lr=0.01, seed=2)`. */
  label?: string;
  readonly children: ProgressAction[];
}

/** The mark drawn before an action in each state. */
export const stateMark: Readonly<Record<ProgressState, string>> = {
  queued: "·",
  waiting: "◌",
  running: "▶",
  retrying: "↻",
  succeeded: "✔",
  cached: "◆",
  failed: "✘",
  cancelled: "⊘",
};

const finished = new Set<ProgressState>(["succeeded", "cached", "failed", "cancelled"]);

/** A run's progress, updated event by event. */
export class Progress {
  /** The run's name, once it started. */
  run = "";
  task = "";
  /** The run's folder, when known. */
  dir: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  status: RunStatus | undefined;
  /** Calls made but not issued yet (not actions yet): counted in what is left. */
  callsWaiting = 0;
  readonly #actions = new Map<string, ProgressAction>();
  readonly roots: ProgressAction[] = [];

  /** Applies one event. */
  readonly observe = (event: RunEvent): void => {
    switch (event.type) {
      case "run-started":
        this.run = event.run;
        this.task = event.task;
        this.dir = event.dir;
        this.startedAt = event.at;
        return;
      case "action-queued": {
        const action: ProgressAction = {
          id: event.action,
          parent: event.parent,
          task: event.task,
          group: event.group,
          state: "queued",
          attempts: 0,
          queuedAt: event.at,
          devices: [],
          children: [],
          ...(event.label === undefined ? {} : { label: event.label }),
        };
        this.#actions.set(action.id, action);
        const parent = event.parent === undefined ? undefined : this.#actions.get(event.parent);
        (parent?.children ?? this.roots).push(action);
        return;
      }
      case "action-cache-hit": {
        const action = this.#actions.get(event.action);
        if (action && event.source === "resume") {
          action.state = "succeeded";
          action.resumed = true;
        } else if (action) action.state = "cached";
        return;
      }
      case "attempt-started": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        // A retry waits as "retrying" until its body runs again.
        if (action.state !== "retrying") action.state = "waiting";
        action.attempts = event.attempt + 1;
        return;
      }
      case "attempt-phase": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        if (event.devices) action.devices = event.devices;
        if (event.lane !== undefined) action.lane = event.lane;
        if (event.phase === "running") {
          action.state = "running";
          action.startedAt = event.at;
        }
        return;
      }
      case "attempt-finished": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        if (event.devices) action.devices = event.devices;
        action.ranUntil = event.at;
        if (event.error) {
          action.state = "retrying";
          action.error = event.error;
        } else action.state = "succeeded"; // its body is done; the action finishes next

        return;
      }
      case "action-finished": {
        const action = this.#actions.get(event.action);
        if (!action) return;
        action.endedAt = event.at;
        if (event.status === "succeeded") {
          if (action.state !== "cached") action.state = "succeeded";
        } else {
          action.state = event.status === "cancelled" ? "cancelled" : "failed";
        }
        if (event.error) action.error = event.error;
        return;
      }
      case "trace-recorded":
        return;
      case "calls-waiting":
        this.callsWaiting = event.count;
        return;
      case "run-finished":
        this.endedAt = event.at;
        this.status = event.status;
        return;
      default:
        event satisfies never;
    }
  };

  /** The action with this id. */
  action(id: string): ProgressAction | undefined {
    return this.#actions.get(id);
  }

  /** Every action, in the order they were queued. */
  get actions(): IterableIterator<ProgressAction> {
    return this.#actions.values();
  }

  /** How many actions are in each state. */
  counts(): Record<ProgressState, number> {
    return countStates(this.#actions.values());
  }
}

/** How many of `actions` are in each state. */
export function countStates(actions: Iterable<ProgressAction>): Record<ProgressState, number> {
  const counts: Record<ProgressState, number> = {
    queued: 0,
    waiting: 0,
    running: 0,
    retrying: 0,
    succeeded: 0,
    cached: 0,
    failed: 0,
    cancelled: 0,
  };
  for (const action of actions) counts[action.state]++;
  return counts;
}

/** `"812 done · 2 running · 186 waiting · 3 cached · 1 retrying"`, leaving out zeros. */
export function formatCounts(counts: Record<ProgressState, number>): string {
  const parts: [number, string][] = [
    [counts.succeeded, "done"],
    [counts.running, "running"],
    [counts.waiting, "waiting"],
    [counts.queued, "queued"],
    [counts.cached, "cached"],
    [counts.retrying, "retrying"],
    [counts.failed, "failed"],
    [counts.cancelled, "cancelled"],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(" · ");
}

/** The short task name: the function part of `"<env>.<function>"`. */
export function shortTask(task: string): string {
  const dot = task.indexOf(".");
  return dot < 0 ? task : task.slice(dot + 1);
}

/**
 * One action's line (without indentation): mark, task, id, duration, attempts, devices. The
 * duration is running time (from the body's start); a waiting action shows how long it has waited.
 */
export function actionLine(action: ProgressAction, now: number): string {
  const facts: string[] = [];
  if (action.state === "running" && action.startedAt !== undefined) {
    facts.push(formatMs(now - action.startedAt));
  } else if (action.state === "waiting") {
    facts.push(`waiting ${formatMs(now - action.queuedAt)}`);
  } else if (action.endedAt !== undefined) {
    // Running time; an action that never ran (a cache hit, a refusal) shows its whole time.
    const from = action.startedAt ?? action.queuedAt;
    facts.push(
      formatMs(
        (action.startedAt === undefined ? action.endedAt : (action.ranUntil ?? action.endedAt)) -
          from,
      ),
    );
  }
  if (action.attempts > 1) facts.push(`${action.attempts} attempts`);
  if (action.state === "cached") facts.push("cache hit");
  if (action.resumed) facts.push("resumed");
  if (action.devices.length > 0) facts.push(`on ${action.devices.join(",")}`);
  const error = action.state === "succeeded" ? undefined : errorText(action, shortTask);
  if (error !== undefined) facts.push(error);
  const tail = facts.length > 0 ? `  ${facts.join(" · ")}` : "";
  return `${stateMark[action.state]} ${action.label ?? shortTask(action.task)} ${action.id}${tail}`;
}

/** Options of {@link treeLines}. */
export interface TreeOptions {
  /** A group (or run of same-task siblings) larger than this is drawn as one line. @default 6 */
  readonly collapseAbove?: number;
}

/** The action tree as indented lines, large groups collapsed to a line of counts. */
export function treeLines(progress: Progress, now: number, options: TreeOptions = {}): string[] {
  const collapseAbove = options.collapseAbove ?? 6;
  const lines: string[] = [];
  const draw = (action: ProgressAction, indent: string) => {
    lines.push(`${indent}${actionLine(action, now)}`);
    const buckets = new Map<
      string,
      { label: string; grouped: boolean; members: ProgressAction[] }
    >();
    for (const child of action.children) {
      const key = child.group === undefined ? `task:${child.task}` : `group:${child.group}`;
      const bucket = buckets.get(key);
      if (bucket) bucket.members.push(child);
      else {
        const grouped = child.group !== undefined;
        const label = grouped ? (child.group as string) : shortTask(child.task);
        buckets.set(key, { label, grouped, members: [child] });
      }
    }
    const inner = `${indent}  `;
    for (const { label, grouped, members } of buckets.values()) {
      if (members.length > collapseAbove) {
        const counts = countStates(members);
        const all = members.every((m) => finished.has(m.state));
        const mark = all
          ? counts.failed > 0
            ? stateMark.failed
            : stateMark.succeeded
          : stateMark.running;
        lines.push(`${inner}${mark} ${label} ×${members.length}: ${formatCounts(counts)}`);
      } else if (grouped) {
        lines.push(`${inner}▾ ${label}`);
        for (const member of members) draw(member, `${inner}  `);
      } else {
        for (const member of members) draw(member, inner);
      }
    }
  };
  for (const root of progress.roots) draw(root, "");
  return lines;
}

/** The header line: run name, elapsed time, actions done, and an estimate of what is left. */
export function headerLine(progress: Progress, now: number): string {
  const counts = progress.counts();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = counts.succeeded + counts.cached + counts.failed + counts.cancelled;
  const elapsedMs = now - (progress.startedAt ?? now);
  const parts = [`run ${progress.run}`, formatMs(elapsedMs), `${done}/${total} actions done`];
  const waiting = progress.callsWaiting;
  if (waiting > 0) parts.push(`${waiting} more call${waiting === 1 ? "" : "s"} not issued yet`);
  const left = total + waiting - done;
  if (done > 0 && left > 0 && elapsedMs > 0) {
    parts.push(`~${formatMs((left * elapsedMs) / done)} left`);
  }
  return parts.join(" · ");
}

/**
 * The end-of-run summary: outcome, wall time, counts, cache-hit rate, and where the report is.
 */
export function summaryLine(progress: Progress, reportPath: string | undefined): string {
  const counts = progress.counts();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const wallMs = (progress.endedAt ?? progress.startedAt ?? 0) - (progress.startedAt ?? 0);
  const status = progress.status ?? "running";
  const mark = status === "succeeded" ? "✔" : status === "cancelled" ? "⊘" : "✘";
  const rate = total === 0 ? 0 : (100 * counts.cached) / total;
  const retried = [...progress.actions].filter((a) => a.attempts > 1).length;
  const resumed = [...progress.actions].filter((a) => a.resumed).length;
  const parts = [
    `${mark} run ${progress.run} ${status} in ${formatMs(wallMs)}`,
    `${total} action${total === 1 ? "" : "s"}: ${formatCounts(counts)}${resumed > 0 ? ` (${resumed} resumed)` : ""}`,
    `cache-hit rate ${Number.isInteger(rate) ? rate : rate.toFixed(1)}%`,
  ];
  if (retried > 0) parts.push(`${retried} retried`);
  if (reportPath !== undefined) parts.push(`report: ${reportPath}`);
  return parts.join(" · ");
}
