/**
 * Reading the run store back: the list of runs and one run's record, for `flyte-ts runs` and tests.
 * @module
 */
import type { Database } from "../cache/database.js";
import type { ErrorData } from "../errors.js";
import { type ActionIo, loadActionIo } from "./action-io.js";
import type { ActionStatus, RunStatus } from "./events.js";
import type { ActionRecord, AttemptRecord, RunRecordData } from "./run-record.js";

/** One line of `flyte-ts runs ls`. */
export interface RunSummary {
  readonly name: string;
  readonly task: string;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  readonly actions: number;
}

/** Which runs {@link listRuns} returns. */
export interface RunFilter {
  /** At most this many. @default 1000 */
  readonly limit?: number;
  /** Only runs with this stored status. */
  readonly status?: RunStatus;
  /** Only runs started at or after this time, milliseconds since the epoch. */
  readonly since?: number;
}

/** The stored runs, newest first. */
export function listRuns(db: Database, filter: RunFilter = {}): RunSummary[] {
  const rows = db
    .prepare<
      [{ status: string | null; since: number | null; limit: number }],
      {
        name: string;
        task: string;
        status: RunStatus;
        started_at: number;
        ended_at: number | null;
        actions: number;
      }
    >(
      `SELECT r.name, r.task, r.status, r.started_at, r.ended_at,
              (SELECT count(*) FROM actions a WHERE a.run = r.name) AS actions
       FROM runs r
       WHERE (@status IS NULL OR r.status = @status) AND (@since IS NULL OR r.started_at >= @since)
       ORDER BY r.started_at DESC LIMIT @limit`,
    )
    .all({
      status: filter.status ?? null,
      since: filter.since ?? null,
      limit: filter.limit ?? 1_000,
    });
  return rows.map((r) => ({
    name: r.name,
    task: r.task,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at ?? undefined,
    actions: r.actions,
  }));
}

/** The stored record of run `name`, or `undefined` when there is none. */
export function loadRun(db: Database, name: string): RunRecordData | undefined {
  const run = db
    .prepare<
      [string],
      {
        task: string;
        status: RunStatus;
        started_at: number;
        ended_at: number | null;
        error: string | null;
      }
    >("SELECT task, status, started_at, ended_at, error FROM runs WHERE name = ?")
    .get(name);
  if (run === undefined) return undefined;
  const io = loadActionIo(db, name);
  const attempts = new Map<string, AttemptRecord[]>();
  for (const a of db
    .prepare<
      [string],
      {
        action: string;
        attempt: number;
        started_at: number;
        ended_at: number | null;
        error: string | null;
        phases: string | null;
      }
    >(
      "SELECT action, attempt, started_at, ended_at, error, phases FROM attempts WHERE run = ? ORDER BY action, attempt",
    )
    .all(name)) {
    const list = attempts.get(a.action) ?? [];
    list.push({
      attempt: a.attempt,
      startedAt: a.started_at,
      // The phases' times and facts (admittedAt, placedAt, runningAt, lane, pid, devices, …).
      ...(a.phases === null ? {} : (JSON.parse(a.phases) as Partial<AttemptRecord>)),
      ...(a.ended_at === null ? {} : { endedAt: a.ended_at }),
      ...(a.error === null ? {} : { error: JSON.parse(a.error) as ErrorData }),
    });
    attempts.set(a.action, list);
  }
  const actions: ActionRecord[] = db
    .prepare<
      [string],
      {
        id: string;
        parent: string | null;
        task: string;
        grp: string | null;
        status: ActionStatus;
        cache_hit: number;
        queued_at: number;
        ended_at: number | null;
        error: string | null;
      }
    >(
      "SELECT id, parent, task, grp, status, cache_hit, queued_at, ended_at, error FROM actions WHERE run = ? ORDER BY queued_at, id",
    )
    .all(name)
    .map((a) => ({
      ...recorded(io.get(a.id)),
      id: a.id,
      parent: a.parent ?? undefined,
      task: a.task,
      group: a.grp ?? undefined,
      status: a.status,
      cacheHit: a.cache_hit === 1,
      ...(a.cache_hit === 2 ? { resumed: true } : {}),
      queuedAt: a.queued_at,
      ...(a.ended_at === null ? {} : { endedAt: a.ended_at }),
      attempts: attempts.get(a.id) ?? [],
      ...(a.error === null ? {} : { error: JSON.parse(a.error) as ErrorData }),
    }));
  return {
    name,
    task: run.task,
    status: run.status,
    startedAt: run.started_at,
    ...(run.ended_at === null ? {} : { endedAt: run.ended_at }),
    ...(run.error === null ? {} : { error: JSON.parse(run.error) as ErrorData }),
    actions,
  };
}

/** The recorded label, inputs and output of an action, as fields of its record. */
function recorded(io: ActionIo | undefined): Pick<ActionRecord, "label" | "inputs" | "output"> {
  if (io === undefined) return {};
  return {
    ...(io.label === undefined ? {} : { label: io.label }),
    ...(io.inputs === undefined ? {} : { inputs: io.inputs }),
    ...(io.output === undefined ? {} : { output: io.output }),
  };
}
