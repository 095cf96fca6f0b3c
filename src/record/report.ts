/**
 * The run report: one self-contained HTML page (no network) rendered from a run's record — a
 * timeline with one lane per worker or device and one bar per attempt, the action tree, errors
 * with stacks, each action's `flyte.report` tabs and captured output. A pure function of its
 * inputs, so it renders the same from a live run's record or from the run store.
 * @module
 */
import type { TabData } from "../context/report.js";
import type { ErrorData } from "../errors.js";
import { pauseAt, runSteps, runStepsSliced, type Steps } from "../internal/steps.js";
import { formatMs } from "../internal/time.js";
import type { LogEntry } from "./logs.js";
import { reportScript, reportStyle } from "./report-assets.js";
import { ioDetails } from "./report-io.js";
import { pushTo, timelineSection } from "./report-timeline.js";
import {
  type ActionRecord,
  type AttemptRecord,
  lastAttemptTimes,
  type RunRecordData,
} from "./run-record.js";

/** What the report shows besides the record itself. */
export interface ReportExtras {
  /** Each action's `flyte.report` tabs, by action id. */
  readonly tabs?: Readonly<Record<string, readonly TabData[]>>;
  /** The run's captured output. */
  readonly logs?: readonly LogEntry[];
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const statusMark: Record<string, string> = {
  queued: "…",
  waiting: "◌",
  running: "▶",
  succeeded: "✔",
  failed: "✘",
  cancelled: "⊘",
};

function durationOf(start: number, end: number | undefined): string {
  return end === undefined ? "" : formatMs(Math.max(0, end - start));
}

function actionLine(action: ActionRecord, tabs: ReportExtras["tabs"]): string {
  const attempts = action.attempts.length;
  const devices = [...new Set(action.attempts.flatMap((a) => a.devices ?? []))];
  // The last attempt's wait and run, as `flyte-ts runs show` gives them (the timeline has each).
  const { waitedMs, ranMs } = lastAttemptTimes(action);
  const facts = [
    waitedMs === undefined
      ? durationOf(action.queuedAt, action.endedAt)
      : ranMs === undefined
        ? ""
        : `ran ${formatMs(ranMs)}`,
    waitedMs === undefined ? "" : `waited ${formatMs(waitedMs)}`,
    attempts > 1 ? `${attempts} attempts` : "",
    action.cacheHit ? "cache hit" : "",
    devices.length > 0 ? `on ${devices.join(", ")}` : "",
    tabs?.[action.id] ? `<a href="#report-${esc(action.id)}">report</a>` : "",
  ].filter((f) => f !== "");
  const name =
    action.label === undefined
      ? esc(action.task)
      : `<span title="${esc(action.task)}">${esc(action.label)}</span>`;
  return `<span class="mark ${action.status}">${statusMark[action.status] ?? "?"}</span> <b>${name}</b> <code>${esc(action.id)}</code> <span class="facts">${facts.join(" · ")}</span>`;
}

function* tree(run: RunRecordData, tabs: ReportExtras["tabs"]): Steps<string> {
  const children = new Map<string, ActionRecord[]>();
  const actions = run.actions;
  for (let i = 0; i < actions.length; i++) {
    if (pauseAt(i)) yield;
    const action = actions[i] as ActionRecord;
    pushTo(children, action.parent ?? "", action);
  }
  function* node(action: ActionRecord): Steps<string> {
    const kids = children.get(action.id) ?? [];
    if (kids.length === 0) return `<li>${actionLine(action, tabs)}${ioDetails(action)}</li>`;
    const groups = new Map<string, ActionRecord[]>();
    for (const kid of kids) pushTo(groups, kid.group ?? "", kid);
    yield;
    const parts: string[] = [];
    for (const [group, members] of groups) {
      const shown = listed(members);
      const lines: string[] = [];
      for (const member of shown) lines.push(yield* node(member));
      const items = lines.join("") + moreLine(members, shown);
      if (group === "") {
        parts.push(items);
        continue;
      }
      const counts = countStatuses(members);
      parts.push(
        `<li><details${members.length > 20 ? "" : " open"}><summary>group <b>${esc(group)}</b> ×${members.length}: ${esc(counts)}</summary><ul>${items}</ul></details></li>`,
      );
    }
    return `<li><details open><summary>${actionLine(action, tabs)}</summary>${ioDetails(action)}<ul>${parts.join("")}</ul></details></li>`;
  }
  const roots: string[] = [];
  for (const root of children.get("") ?? []) roots.push(yield* node(root));
  return `<section id="actions"><h2>Actions</h2><ul class="tree">${roots.join("")}</ul></section>`;
}

/** How many succeeded actions of one group the tree lists before it sums up the rest. */
const listedSucceeded = 100;

/** The members of a large group worth a line each: everything that did not simply succeed, and
 * the first {@link listedSucceeded} that did (the timeline's tooltips still show every one). */
function listed(members: readonly ActionRecord[]): readonly ActionRecord[] {
  if (members.length <= listedSucceeded) return members;
  let succeeded = 0;
  return members.filter(
    (m) =>
      m.status !== "succeeded" ||
      m.cacheHit ||
      m.attempts.length > 1 ||
      succeeded++ < listedSucceeded,
  );
}

function moreLine(
  members: readonly ActionRecord[],
  shown: readonly ActionRecord[] = listed(members),
): string {
  const hidden = members.length - shown.length;
  return hidden > 0
    ? `<li class="more">… and ${hidden} more that succeeded at the first attempt</li>`
    : "";
}

/** `"812 succeeded · 3 failed · 2 cache hits"` for a set of actions. */
export function countStatuses(actions: readonly ActionRecord[]): string {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  const hits = actions.filter((a) => a.cacheHit).length;
  const parts = [...counts].map(([status, n]) => `${n} ${status}`);
  if (hits > 0) parts.push(`${hits} cached`);
  return parts.join(" · ");
}

function errorBlock(error: ErrorData): string {
  const cause = error.cause ? `<div class="cause">caused by ${errorBlock(error.cause)}</div>` : "";
  const stack = error.stack
    ? `<details><summary>stack</summary><pre>${esc(error.stack)}</pre></details>`
    : "";
  return `<div><b>${esc(error.name)}</b>${error.code !== error.name ? ` [${esc(error.code)}]` : ""}: ${esc(error.message)}${stack}${cause}</div>`;
}

function* errors(run: RunRecordData): Steps<string> {
  const failed: { action: ActionRecord; attempt: AttemptRecord; error: ErrorData }[] = [];
  const actions = run.actions;
  for (let i = 0; i < actions.length; i++) {
    if (pauseAt(i)) yield;
    const action = actions[i] as ActionRecord;
    for (const attempt of action.attempts) {
      if (attempt.error !== undefined) failed.push({ action, attempt, error: attempt.error });
    }
  }
  if (failed.length === 0) return "";
  const items = failed.map(
    ({ action, attempt, error }) =>
      `<li class="error"><div class="where">${esc(action.task)} <code>${esc(action.id)}</code> attempt ${attempt.attempt}</div>${errorBlock(error)}</li>`,
  );
  return `<section id="errors"><h2>Errors (${failed.length})</h2><ul>${items.join("")}</ul></section>`;
}

function* reportTabs(run: RunRecordData, tabs: ReportExtras["tabs"]): Steps<string> {
  if (tabs === undefined) return "";
  const withTabs: ActionRecord[] = [];
  const actions = run.actions;
  for (let i = 0; i < actions.length; i++) {
    if (pauseAt(i)) yield;
    const action = actions[i] as ActionRecord;
    if (tabs[action.id] !== undefined) withTabs.push(action);
  }
  const sections = withTabs.map((action) => {
    const actionTabs = tabs[action.id] ?? [];
    const buttons = actionTabs.map(
      (t, i) =>
        `<button type="button" class="tab-button${i === 0 ? " active" : ""}" data-tab="${i}">${esc(t.name)}</button>`,
    );
    // Tab HTML is the task's own: each tab is an isolated, script-capable frame of its own.
    const frames = actionTabs.map(
      (t, i) =>
        `<iframe class="tab-frame${i === 0 ? " active" : ""}" data-tab="${i}" title="${esc(t.name)}" sandbox="allow-scripts" srcdoc="${esc(`<!doctype html><meta charset="utf-8">${t.html}`)}"></iframe>`,
    );
    return `<div class="task-report" id="report-${esc(action.id)}"><h3>${esc(action.task)} <code>${esc(action.id)}</code></h3><div class="tab-buttons">${buttons.join("")}</div>${frames.join("")}</div>`;
  });
  if (sections.length === 0) return "";
  return `<section id="reports"><h2>Task reports</h2>${sections.join("")}</section>`;
}

function logs(run: RunRecordData, entries: readonly LogEntry[] | undefined): string {
  if (entries === undefined || entries.length === 0) return "";
  const byAction = new Map<string, LogEntry[]>();
  for (const e of entries) pushTo(byAction, e.action, e);
  const tasks = new Map(run.actions.map((a) => [a.id, a.task]));
  const blocks = [...byAction].map(([action, lines]) => {
    const text = lines
      .map((l) =>
        l.stream === "stderr" ? `<span class="stderr">${esc(l.text)}</span>` : esc(l.text),
      )
      .join("");
    return `<details><summary>${esc(tasks.get(action) ?? "")} <code>${esc(action)}</code> (${lines.length} writes)</summary><pre>${text}</pre></details>`;
  });
  return `<section id="logs"><h2>Output</h2>${blocks.join("")}</section>`;
}

/**
 * Renders a run's report page. Pure: the same inputs give the same page.
 *
 * @example
 * ```ts
 * const html = renderRunReport(loadRun(new RunStore(".flyte").database!, "demo")!);
 * ```
 */
export function renderRunReport(run: RunRecordData, extras: ReportExtras = {}): string {
  return runSteps(reportSteps(run, extras));
}

/**
 * {@link renderRunReport} in slices of the thread's time: a run's end renders a report of 100k
 * actions without holding the event loop.
 */
export function renderRunReportSliced(
  run: RunRecordData,
  extras: ReportExtras = {},
): Promise<string> {
  return runStepsSliced(reportSteps(run, extras));
}

function* reportSteps(run: RunRecordData, extras: ReportExtras): Steps<string> {
  const attempts = run.actions.reduce((n, a) => n + a.attempts.length, 0);
  const hits = run.actions.filter((a) => a.cacheHit).length;
  const summary = [
    `<span class="mark ${run.status}">${statusMark[run.status] ?? "?"}</span> ${esc(run.status)}`,
    `${run.actions.length} actions`,
    `${attempts} attempts`,
    `${hits} cache hits`,
    run.endedAt === undefined
      ? "still running"
      : `wall time ${formatMs(run.endedAt - run.startedAt)}`,
    `started ${new Date(run.startedAt).toISOString()}`,
  ];
  const runError = run.error ? `<div class="run-error">${errorBlock(run.error)}</div>` : "";
  const timeline = yield* timelineSection(run);
  const actions = yield* tree(run, extras.tabs);
  const failures = yield* errors(run);
  const tabs = yield* reportTabs(run, extras.tabs);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flyte-ts run ${esc(run.name)}</title>
<style>${reportStyle}</style>
</head><body>
<header><h1>Run <code>${esc(run.name)}</code> · ${esc(run.task)}</h1><p class="summary">${summary.join(" · ")}</p>${runError}</header>
${timeline}
${actions}
${failures}
${tabs}
${logs(run, extras.logs)}
<script>${reportScript}</script>
</body></html>
`;
}
