/**
 * Cancelling a run from another process (`flyte-ts runs cancel <run>`): a request row in
 * `runs.db` that the run's owning process polls while the run goes. The same poll writes the
 * owner's heartbeat and what its scheduler holds and waits for, which `flyte-ts status` reads.
 * @module
 */
import type { Database } from "../cache/database.js";
import { ensureOwnerTable } from "./run-owner.js";

const cancelDdl = `
  CREATE TABLE IF NOT EXISTS run_cancel_requests (
    run TEXT PRIMARY KEY, requested_at INTEGER NOT NULL, by_pid INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

const ready = new WeakSet<Database>();

function ensureCancelTable(db: Database): void {
  if (ready.has(db)) return;
  db.exec(cancelDdl);
  ready.add(db);
}

/** How often the owner looks for a cancel request and writes its heartbeat. Milliseconds. */
export const CANCEL_POLL_MS = 250;

/** Asks the owner of `run` to cancel it. */
export function requestCancel(db: Database, run: string, at: number): void {
  ensureCancelTable(db);
  db.prepare(
    "INSERT OR REPLACE INTO run_cancel_requests (run, requested_at, by_pid) VALUES (?, ?, ?)",
  ).run(run, at, process.pid);
}

/** Forgets any cancel request for `run` (a run starting under that name again). */
export function clearCancelRequest(db: Database, run: string): void {
  ensureCancelTable(db);
  db.prepare("DELETE FROM run_cancel_requests WHERE run = ?").run(run);
}

/** The pid that asked to cancel `run`, when one did. */
function cancelRequestedBy(db: Database, run: string): number | undefined {
  return db
    .prepare<[string], { by_pid: number }>("SELECT by_pid FROM run_cancel_requests WHERE run = ?")
    .get(run)?.by_pid;
}

/** What the owner's scheduler holds and waits for, as `flyte-ts status` shows it. */
export interface HostUsage {
  /** Milli-cores held by admitted attempts. */
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  /** Devices (GPUs, MIG slices, TPU chips) held. */
  readonly devices: number;
  /** What each waiting attempt asks for, in words (`"1 x H100"`, `"2 CPU, 512 MiB of memory"`). */
  readonly waiting: readonly string[];
}

/** Options of {@link watchRun}. */
export interface WatchOptions {
  /** Called once when a cancel request for the run is found, with the requesting pid. */
  readonly onCancel: (byPid: number) => void;
  /** What this process's scheduler holds now, written with the heartbeat. */
  readonly usage?: () => HostUsage | undefined;
  readonly now: () => number;
}

/**
 * While the run goes, polls for a cancel request every {@link CANCEL_POLL_MS} and writes the
 * heartbeat and usage (only when the usage changed). Returns the function that stops it. The
 * timer never keeps the process alive; errors (a locked or damaged file) skip one poll.
 */
export function watchRun(db: Database, run: string, options: WatchOptions): () => void {
  ensureCancelTable(db);
  ensureOwnerTable(db);
  const beat = db.prepare("UPDATE run_owners SET heartbeat_at = ?, usage = ? WHERE run = ?");
  let lastUsage: string | undefined;
  let cancelled = false;
  const poll = () => {
    try {
      if (!cancelled) {
        const by = cancelRequestedBy(db, run);
        if (by !== undefined) {
          cancelled = true;
          options.onCancel(by);
        }
      }
      const usage = JSON.stringify(options.usage?.() ?? null);
      if (usage !== lastUsage) {
        beat.run(options.now(), usage, run);
        lastUsage = usage;
      }
    } catch {
      // A busy or damaged file: try again at the next poll.
    }
  };
  const timer = setInterval(poll, CANCEL_POLL_MS);
  timer.unref();
  poll();
  return () => clearInterval(timer);
}

/** The last usage each live owner wrote, by run. */
export function usageByRun(db: Database): Map<string, HostUsage> {
  ensureOwnerTable(db);
  const rows = db
    .prepare<[], { run: string; usage: string | null }>(
      "SELECT run, usage FROM run_owners WHERE usage IS NOT NULL",
    )
    .all();
  const out = new Map<string, HostUsage>();
  for (const row of rows) {
    try {
      const usage = JSON.parse(row.usage as string) as HostUsage | null;
      if (usage !== null) out.set(row.run, usage);
    } catch {
      // An unreadable row says nothing.
    }
  }
  return out;
}
