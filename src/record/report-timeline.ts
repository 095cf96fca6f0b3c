/**
 * The run report's timeline: one lane per device set, pinned core set, worker (thread or
 * process) or, when none is known, environment; one bar per attempt — its wait for admission
 * and a worker drawn as a hatched segment before its running time — concurrent attempts stacked
 * in rows. The page carries the bars as JSON and draws them
 * with a few lines of script, so a run of 100k attempts stays a small file that renders fast.
 * @module
 */
import { pauseAt, runSteps, type Steps } from "../internal/steps.js";
import { formatMs } from "../internal/time.js";
import type { ActionRecord, AttemptRecord, RunRecordData } from "./run-record.js";

/** The outcome an attempt's bar is coloured by. */
export type AttemptOutcome = "succeeded" | "failed" | "timeout" | "cancelled" | "running";

/**
 * The lane an attempt is drawn in: its devices (a GPU held whole runs one attempt at a time;
 * attempts holding shares of one GPU, `gpu0@0.5`, stack in rows of its lane `gpu0`), else its
 * pinned cores, else its worker, else its environment.
 */
export function laneOf(action: ActionRecord, attempt: AttemptRecord): string {
  if (attempt.devices !== undefined && attempt.devices.length > 0) {
    const first = attempt.devices[0] as string;
    const at = first.indexOf("@");
    if (at > 0) return first.slice(0, at);
    return attempt.devices.join(",");
  }
  if (attempt.cpus !== undefined && attempt.cpus.length > 0)
    return `cores ${attempt.cpus.join(",")}`;
  if (attempt.lane !== undefined) return attempt.lane;
  return environmentOf(action.task);
}

/** The environment part of a task's full name `"<env>.<function>"`. */
export function environmentOf(task: string): string {
  const dot = task.indexOf(".");
  return dot < 0 ? task : task.slice(0, dot);
}

/** How an attempt ended. */
export function attemptOutcome(attempt: AttemptRecord): AttemptOutcome {
  if (attempt.endedAt === undefined) return "running";
  if (attempt.error === undefined) return "succeeded";
  if (attempt.error.code === "TaskTimeoutError" || attempt.error.name === "TaskTimeoutError")
    return "timeout";
  if (attempt.error.name === "RunCancelledError") return "cancelled";
  return "failed";
}

/** Appends `value` to the list at `key`. */
export function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

interface Bar {
  readonly action: ActionRecord;
  readonly attempt: AttemptRecord | undefined;
  readonly start: number;
  readonly end: number;
}

/** The most rows one lane stacks; past that, concurrent bars share rows and overlap. */
const maxRowsPerLane = 120;

/**
 * Places each bar (by start time) in the row that frees up first, a new row when every row is
 * still busy, up to {@link maxRowsPerLane}. A min-heap of row ends keeps it O(n log n).
 */
function* packRows(bars: readonly Bar[]): Steps<{ bar: Bar; row: number }[]> {
  const heap: { end: number; row: number }[] = [];
  const less = (a: number, b: number) =>
    (heap[a] as { end: number }).end < (heap[b] as { end: number }).end;
  const swap = (a: number, b: number) => {
    [heap[a], heap[b]] = [
      heap[b] as { end: number; row: number },
      heap[a] as { end: number; row: number },
    ];
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(i, parent)) return;
      swap(i, parent);
      i = parent;
    }
  };
  const sorted = [...bars].sort((a, b) => a.start - b.start);
  const placed: { bar: Bar; row: number }[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (pauseAt(i)) yield;
    const bar = sorted[i] as Bar;
    // A zero-length bar still takes room on screen.
    const end = Math.max(bar.end, bar.start + 1);
    const first = heap[0];
    if (first !== undefined && (first.end <= bar.start || heap.length >= maxRowsPerLane)) {
      first.end = Math.max(first.end, end);
      down(0);
      placed.push({ bar, row: first.row });
      continue;
    }
    heap.push({ end, row: heap.length });
    up(heap.length - 1);
    placed.push({ bar, row: heap.length - 1 });
  }
  return placed;
}

/**
 * One bar: `[lane, row, start ms, duration ms, kind, attempt, action id, task, wait ms, place,
 * limited, error]`. Kind is an {@link AttemptOutcome} or `"hit"` (a cache hit); times are from the
 * run's start; the first `wait` ms of the bar are the attempt's wait (admission, a worker slot,
 * loading) before its body ran (the whole bar when it never ran). `task` and `place` (where it
 * ran, `"bench/thread-3 · thread 3"`) index {@link TimelineData.tasks} and
 * {@link TimelineData.places}: a fan-out's bars share a few of each. `limited` names the limit the
 * attempt waited for, `error` its error, `""` when none.
 */
export type TimelineBar = readonly [
  number,
  number,
  number,
  number,
  string,
  number,
  string,
  number,
  number,
  number,
  string,
  string,
];

/** The timeline as data: lanes (name, rows, row height in px) and one entry per bar. */
export interface TimelineData {
  readonly spanMs: number;
  readonly lanes: readonly {
    readonly name: string;
    readonly rows: number;
    readonly rowPx: number;
  }[];
  /** Task names, which bars refer to by index. */
  readonly tasks: readonly string[];
  /** Where attempts ran, which bars refer to by index (`""`: not known). */
  readonly places: readonly string[];
  readonly bars: readonly TimelineBar[];
}

/** The index of `value` in `list`, adding it at the end when missing. */
function indexIn(list: string[], indexes: Map<string, number>, value: string): number {
  let index = indexes.get(value);
  if (index === undefined) {
    index = list.length;
    list.push(value);
    indexes.set(value, index);
  }
  return index;
}

/** Lays out a run's attempts and cache hits in lanes and rows. */
export function timelineData(run: RunRecordData): TimelineData {
  return runSteps(timelineSteps(run));
}

/** {@link timelineData}, pausing in its loops. */
function* timelineSteps(run: RunRecordData): Steps<TimelineData> {
  let end = run.endedAt ?? run.startedAt;
  if (run.endedAt === undefined) for (const a of run.actions) end = Math.max(end, a.endedAt ?? 0);
  const spanMs = Math.max(1, end - run.startedAt);
  const lanes = new Map<string, Bar[]>();
  const actions = run.actions;
  for (let i = 0; i < actions.length; i++) {
    if (pauseAt(i)) yield;
    const action = actions[i] as ActionRecord;
    for (const attempt of action.attempts) {
      pushTo(lanes, laneOf(action, attempt), {
        action,
        attempt,
        start: attempt.startedAt,
        end: attempt.endedAt ?? end,
      });
    }
    if (action.cacheHit && action.attempts.length === 0) {
      pushTo(lanes, environmentOf(action.task), {
        action,
        attempt: undefined,
        start: action.queuedAt,
        end: action.endedAt ?? action.queuedAt,
      });
    }
  }
  const laneData: { name: string; rows: number; rowPx: number }[] = [];
  const tasks: string[] = [];
  const taskIndexes = new Map<string, number>();
  const places: string[] = [];
  const placeIndexes = new Map<string, number>();
  const bars: TimelineBar[] = [];
  // A worker's attempts share one place: found by lane and thread (or pid) without a string.
  const byWorker = new Map<string | undefined, Map<number | undefined, number>>();
  const placeIndex = (attempt: AttemptRecord): number => {
    if (attempt.devices?.length || attempt.cpus?.length) {
      return indexIn(places, placeIndexes, placeOf(attempt));
    }
    let threads = byWorker.get(attempt.lane);
    if (threads === undefined) {
      threads = new Map();
      byWorker.set(attempt.lane, threads);
    }
    const worker = attempt.threadId ?? (attempt.pid === undefined ? undefined : -attempt.pid);
    let index = threads.get(worker);
    if (index === undefined) {
      index = indexIn(places, placeIndexes, placeOf(attempt));
      threads.set(worker, index);
    }
    return index;
  };
  for (const [name, members] of lanes) {
    const lane = laneData.length;
    const placed = yield* packRows(members);
    const rows = placed.reduce((n, p) => Math.max(n, p.row + 1), 1);
    // A huge fan-out shrinks its rows to stay on screen.
    laneData.push({ name, rows, rowPx: rows <= 24 ? 18 : Math.max(2, Math.floor(432 / rows)) });
    for (let i = 0; i < placed.length; i++) {
      if (pauseAt(i)) yield;
      const { bar, row } = placed[i] as { bar: Bar; row: number };
      const { action, attempt } = bar;
      const start = bar.start - run.startedAt;
      const task = indexIn(tasks, taskIndexes, action.task);
      if (attempt === undefined) {
        bars.push([lane, row, start, 0, "hit", 0, action.id, task, 0, 0, "", ""]);
        continue;
      }
      // An attempt that failed before its body ran waited all along; one that succeeded ran
      // (records written before phases were recorded have no `runningAt`).
      const runningAt = attempt.runningAt ?? (attempt.error === undefined ? bar.start : bar.end);
      bars.push([
        lane,
        row,
        start,
        bar.end - bar.start,
        attemptOutcome(attempt),
        attempt.attempt,
        action.id,
        task,
        runningAt - bar.start,
        placeIndex(attempt),
        attempt.limitedBy ?? "",
        attempt.error === undefined ? "" : `${attempt.error.name}: ${attempt.error.message}`,
      ]);
    }
  }
  return { spanMs, lanes: laneData, tasks, places, bars };
}

/** Where an attempt ran, in words: its worker, pid or thread, devices and cores. */
function placeOf(attempt: AttemptRecord): string {
  const where: string[] = [];
  if (attempt.lane !== undefined) where.push(attempt.lane);
  if (attempt.pid !== undefined) where.push(`pid ${attempt.pid}`);
  if (attempt.threadId !== undefined) where.push(`thread ${attempt.threadId}`);
  if (attempt.devices?.length) {
    where.push(
      attempt.devices.map((d) => d.replace(/@(.+)$/, " ($1 of the GPU, shared)")).join(", "),
    );
  }
  if (attempt.cpus?.length) where.push(`cores ${attempt.cpus.join(",")}`);
  return where.join(" · ");
}

/**
 * A bar's tooltip lines: how long it waited and ran, the limit it waited for, where it ran, its
 * error; `format` is `formatMs`. The report page runs this same function (its source is in the
 * page's script), so it uses nothing but its arguments.
 */
export function barDetail(
  data: TimelineData,
  bar: TimelineBar,
  format: (ms: number) => string,
): string {
  const [, , , duration, , , , , wait, place, limited, error] = bar;
  const lines = [`waited ${format(wait)}, ran ${format(duration - wait)}`];
  if (limited !== "") lines.push(`(${limited})`);
  const where = data.places[place];
  if (where) lines.push(`on ${where}`);
  if (error !== "") lines.push(error);
  return lines.join("\n");
}

/** The timeline section: legend, axis, and the bars as JSON for the page's script to draw. */
export function* timelineSection(run: RunRecordData): Steps<string> {
  const data = yield* timelineSteps(run);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (f) => `<span style="left:${(f * 100).toFixed(0)}%">${formatMs(f * data.spanMs)}</span>`,
  );
  // JSON.stringify(data), the bars a few thousand at a time.
  const { bars, ...rest } = data;
  const head = JSON.stringify({ ...rest, bars: [] });
  const chunks: string[] = [];
  for (let i = 0; i < bars.length; i += 4096) {
    if (i > 0) yield;
    chunks.push(JSON.stringify(bars.slice(i, i + 4096)).slice(1, -1));
  }
  // "<" cannot end the script element early once escaped; the JSON stays valid.
  const json = `${head.slice(0, -2)}${chunks.join(",")}]}`.replace(/</g, "\\u003c");
  return `<section id="timeline"><h2>Timeline</h2>
<div class="legend"><span class="bar waiting">waiting</span><span class="bar succeeded">ok</span><span class="bar failed">failed</span><span class="bar timeout">timeout</span><span class="bar cancelled">cancelled</span><span class="bar running">running</span><span class="bar succeeded retry">#n retry</span><span class="hit legend-hit"></span> cache hit</div>
<div class="zoom">zoom <button type="button" data-zoom="0.5">−</button><button type="button" data-zoom="2">+</button><button type="button" data-zoom="0">fit</button> <span class="zoom-level">1×</span> (or Ctrl + wheel over the timeline)</div>
<div class="scroller"><div class="lanes"><div id="lanes"></div><div class="lane axis"><div class="lane-name"></div><div class="track">${ticks.join("")}</div></div></div></div>
<script type="application/json" id="timeline-data">${json}</script>
</section>`;
}
