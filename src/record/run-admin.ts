/**
 * Removing stored runs (`flyte-ts runs rm`, `runs prune --older-than`, `--replace`): a run's rows
 * in `runs.db` and its folders under the `.flyte` folder (report, logs, default raw data).
 * @module
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "../cache/database.js";
import { ensureKeyTable } from "./action-io.js";
import { clearCancelRequest } from "./run-cancel.js";
import { ensureOwnerTable } from "./run-owner.js";

/** The run-store tables that hold rows per run, and the column naming the run. */
const perRunTables: readonly [string, string][] = [
  ["cache_keys", "run"],
  ["events", "run"],
  ["traces", "run"],
  ["attempts", "run"],
  ["actions", "run"],
  ["run_owners", "run"],
  ["runs", "name"],
];

/**
 * Removes run `name`: its rows in every table and its folders `<home>/runs/<name>` and
 * `<home>/raw/<name>`. Says whether a run of that name was stored.
 */
export function removeRun(db: Database, home: string, name: string): boolean {
  ensureOwnerTable(db);
  ensureKeyTable(db);
  clearCancelRequest(db, name);
  const existed = db.prepare("SELECT 1 FROM runs WHERE name = ?").get(name) !== undefined;
  db.transaction(() => {
    for (const [table, column] of perRunTables) {
      db.prepare(`DELETE FROM ${table} WHERE ${column} = ?`).run(name);
    }
  }).immediate();
  for (const dir of [join(home, "runs", name), join(home, "raw", name)]) {
    rmSync(dir, { recursive: true, force: true });
  }
  return existed;
}

/**
 * The names of finished runs (not `running`) that started more than `olderThanMs` before `now`,
 * oldest first.
 */
export function runsOlderThan(db: Database, olderThanMs: number, now: number): string[] {
  return db
    .prepare<[number], { name: string }>(
      "SELECT name FROM runs WHERE started_at < ? AND status != 'running' ORDER BY started_at",
    )
    .all(now - olderThanMs)
    .map((r) => r.name);
}

/** Marks run `name` cancelled in the store (for a run whose owner is gone and cannot do it). */
export function markCancelled(db: Database, name: string, at: number, message: string): void {
  const error = JSON.stringify({
    name: "RunCancelledError",
    code: "RunCancelledError",
    kind: "system",
    message,
  });
  db.transaction(() => {
    db.prepare(
      "UPDATE runs SET status = 'cancelled', ended_at = ?, error = ? WHERE name = ? AND status = 'running'",
    ).run(at, error, name);
    db.prepare(
      "UPDATE actions SET status = 'cancelled', ended_at = ? WHERE run = ? AND status IN ('queued', 'running')",
    ).run(at, name);
  }).immediate();
}
