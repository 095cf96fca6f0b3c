/**
 * Who runs a run: the owning process's pid, host and start time, recorded in `runs.db` when the
 * run starts, so that `flyte-ts runs ls` can tell a run that is still going from one whose
 * process was killed (`kill -9`, a crash, Ctrl-C in a program) and stays `running` in the store.
 * A pid alone is not enough (pids are reused), so the process's start time is recorded too and
 * compared (Linux: `/proc/<pid>/stat`).
 * @module
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Database } from "../cache/database.js";

/** The `run_owners` table: one row per run, the process that started it. */
const ownerDdl = `
  CREATE TABLE IF NOT EXISTS run_owners (
    run TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, process_start TEXT,
    started_at INTEGER NOT NULL, heartbeat_at INTEGER, usage TEXT
  ) WITHOUT ROWID;
`;

const ready = new WeakSet<Database>();

/** Creates the owner table in `db` if it is missing (once per connection). */
export function ensureOwnerTable(db: Database): void {
  if (ready.has(db)) return;
  db.exec(ownerDdl);
  ready.add(db);
}

/** The process that runs (or ran) a run. */
export interface RunOwner {
  readonly pid: number;
  readonly host: string;
  /** The process's start time as the OS reports it (clock ticks since boot on Linux). */
  readonly processStart: string | undefined;
  /** When the run started, milliseconds since the epoch. */
  readonly startedAt: number;
}

/** Whether a run's owner is still running: `"alive"`, `"dead"`, or `"unknown"` (another host). */
export type OwnerState = "alive" | "dead" | "unknown";

/** This process's start time as the OS reports it, or `undefined` where it cannot be read. */
export function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime); the command name (field 2) may hold spaces, so count after its ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** The owner record for this process. */
export function thisProcess(startedAt: number): RunOwner {
  return {
    pid: process.pid,
    host: hostname(),
    processStart: processStartOf(process.pid),
    startedAt,
  };
}

/** Records `owner` as the process running `run` (replacing an earlier owner). */
export function recordOwner(db: Database, run: string, owner: RunOwner): void {
  ensureOwnerTable(db);
  db.prepare(
    "INSERT OR REPLACE INTO run_owners (run, pid, host, process_start, started_at) VALUES (?, ?, ?, ?, ?)",
  ).run(run, owner.pid, owner.host, owner.processStart ?? null, owner.startedAt);
}

/** The recorded owner of `run`, if any (runs recorded by older versions have none). */
export function ownerOf(db: Database, run: string): RunOwner | undefined {
  ensureOwnerTable(db);
  const row = db
    .prepare<
      [string],
      { pid: number; host: string; process_start: string | null; started_at: number }
    >("SELECT pid, host, process_start, started_at FROM run_owners WHERE run = ?")
    .get(run);
  return row === undefined
    ? undefined
    : {
        pid: row.pid,
        host: row.host,
        processStart: row.process_start ?? undefined,
        startedAt: row.started_at,
      };
}

/** Whether `owner` is still running: its pid exists on this host and started when it did. */
export function ownerState(owner: RunOwner): OwnerState {
  if (owner.host !== hostname()) return "unknown";
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return "dead";
  }
  if (owner.processStart === undefined) return "alive";
  const now = processStartOf(owner.pid);
  return now === undefined || now === owner.processStart ? "alive" : "dead";
}

/** The state of the owner of `run`, or `undefined` when none is recorded. */
export function runOwnerState(db: Database, run: string): OwnerState | undefined {
  const owner = ownerOf(db, run);
  return owner === undefined ? undefined : ownerState(owner);
}

/** A run's status as shown: the stored one, or `"died"` for a run still `running` whose owner is gone. */
export type ShownStatus = "running" | "succeeded" | "failed" | "cancelled" | "died";

/**
 * The status to show for run `name` stored as `status`: a `running` run whose recorded owner
 * is no longer running is `"died"` (killed, crashed, or interrupted before it could record it).
 */
export function shownStatus(db: Database, name: string, status: string): ShownStatus {
  if (status !== "running") return status as ShownStatus;
  return runOwnerState(db, name) === "dead" ? "died" : "running";
}
