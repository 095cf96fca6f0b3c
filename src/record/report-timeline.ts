/**
 * The run report's timeline: one lane per worker, device set or environment; one bar per
 * attempt, concurrent attempts stacked in rows. The page carries the bars as JSON and draws them
 * with a few lines of script, so a run of 100k attempts stays a small file that renders fast.
 * @module
 */
import { formatMs } from "../internal/time.js";
import type { ActionRecord, AttemptRecord, RunRecordData } from "./run-record.js";

/** The outcome an attempt's bar is coloured by. */
export type AttemptOutcome = "succeeded" | "failed" | "timeout" | "cancelled" | "running";

/** The lane an attempt is drawn in: its worker, else its devices, else its environment. */
export function laneOf(action: ActionRecord, attempt: AttemptRecord): string {
  if (attempt.lane !== undefined) return attempt.lane;
  if (attempt.devices !== undefined && attempt.devices.length > 0) return attempt.devices.join(",");
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
function packRows(bars: readonly Bar[]): { bar: Bar; row: number }[] {
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
  return [...bars]
    .sort((a, b) => a.start - b.start)
    .map((bar) => {
      // A zero-length bar still takes room on screen.
      const end = Math.max(bar.end, bar.start + 1);
      const first = heap[0];
      if (first !== undefined && (first.end <= bar.start || heap.length >= maxRowsPerLane)) {
        first.end = Math.max(first.end, end);
        down(0);
        return { bar, row: first.row };
      }
      heap.push({ end, row: heap.length });
      up(heap.length - 1);
      return { bar, row: heap.length - 1 };
    });
}

/**
 * The timeline as data: lanes (name, rows, row height in px) and one entry per bar,
 * `[lane, row, start ms, duration ms, kind, attempt, action id, task, detail]`, where kind is an
 * {@link AttemptOutcome} or `"hit"` (a cache hit) and times are from the run's start.
 */
export interface TimelineData {
  readonly spanMs: number;
  readonly lanes: readonly {
    readonly name: string;
    readonly rows: number;
    readonly rowPx: number;
  }[];
  readonly bars: readonly (readonly [
    number,
    number,
    number,
    number,
    string,
    number,
    string,
    string,
    string,
  ])[];
}

/** Lays out a run's attempts and cache hits in lanes and rows. */
export function timelineData(run: RunRecordData): TimelineData {
  let end = run.endedAt ?? run.startedAt;
  if (run.endedAt === undefined) for (const a of run.actions) end = Math.max(end, a.endedAt ?? 0);
  const spanMs = Math.max(1, end - run.startedAt);
  const lanes = new Map<string, Bar[]>();
  for (const action of run.actions) {
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
  const bars: [number, number, number, number, string, number, string, string, string][] = [];
  for (const [name, members] of lanes) {
    const lane = laneData.length;
    const placed = packRows(members);
    const rows = placed.reduce((n, p) => Math.max(n, p.row + 1), 1);
    // A huge fan-out shrinks its rows to stay on screen.
    laneData.push({ name, rows, rowPx: rows <= 24 ? 18 : Math.max(2, Math.floor(432 / rows)) });
    for (const { bar, row } of placed) {
      const { action, attempt } = bar;
      const start = bar.start - run.startedAt;
      if (attempt === undefined) {
        bars.push([lane, row, start, 0, "hit", 0, action.id, action.task, "cache hit"]);
        continue;
      }
      const devices = attempt.devices?.length ? `on ${attempt.devices.join(", ")}` : "";
      const error = attempt.error ? `${attempt.error.name}: ${attempt.error.message}` : "";
      const detail = [devices, error].filter((d) => d !== "").join("\n");
      const kind = attemptOutcome(attempt);
      bars.push([
        lane,
        row,
        start,
        bar.end - bar.start,
        kind,
        attempt.attempt,
        action.id,
        action.task,
        detail,
      ]);
    }
  }
  return { spanMs, lanes: laneData, bars };
}

/** The timeline section: legend, axis, and the bars as JSON for the page's script to draw. */
export function timelineSection(run: RunRecordData): string {
  const data = timelineData(run);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (f) => `<span style="left:${(f * 100).toFixed(0)}%">${formatMs(f * data.spanMs)}</span>`,
  );
  // "<" cannot end the script element early once escaped; the JSON stays valid.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<section id="timeline"><h2>Timeline</h2>
<div class="legend"><span class="bar succeeded">ok</span><span class="bar failed">failed</span><span class="bar timeout">timeout</span><span class="bar cancelled">cancelled</span><span class="bar running">running</span><span class="bar succeeded retry">#n retry</span><span class="hit legend-hit"></span> cache hit</div>
<div class="lanes"><div id="lanes"></div><div class="lane axis"><div class="lane-name"></div><div class="track">${ticks.join("")}</div></div></div>
<script type="application/json" id="timeline-data">${json}</script>
</section>`;
}
