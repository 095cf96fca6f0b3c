/**
 * Looking into and trimming the local cache: what `flyte-ts cache ls | show | stats | clear |
 * prune` do. Removing entries also removes the objects (and blob files) no entry points at.
 * @module
 */
import type { Database } from "./database.js";
import type { SqliteCacheStore } from "./sqlite-cache-store.js";

/** One cached entry. */
export interface CacheEntry {
  readonly key: string;
  readonly task: string;
  /** The stored object's content hash; `''` for an output kept in its entry row. */
  readonly hash: string;
  /** Bytes of the stored output. */
  readonly size: number;
  /** When it was written, milliseconds since the epoch. */
  readonly createdAt: number;
}

/** What the cache holds. */
export interface CacheStats {
  readonly entries: number;
  /** Stored outputs: outputs kept in their entry rows, and objects (identical ones stored once). */
  readonly objects: number;
  readonly inlineBytes: number;
  readonly blobBytes: number;
  readonly tasks: number;
}

interface EntryRow {
  key: string;
  task: string;
  hash: string;
  size: number;
  created_at: number;
}

const toEntry = (r: EntryRow): CacheEntry => ({
  key: r.key,
  task: r.task,
  hash: r.hash,
  size: r.size,
  createdAt: r.created_at,
});

const entrySelect =
  "SELECT e.key, e.task, e.hash, CASE WHEN e.data IS NOT NULL THEN length(e.data) ELSE coalesce(o.size, 0) END AS size, " +
  "e.created_at FROM entries e LEFT JOIN objects o ON o.hash = e.hash";

/** The entries, newest first, optionally of one task only. */
export function listEntries(db: Database, task?: string): CacheEntry[] {
  const rows =
    task === undefined
      ? db.prepare<[], EntryRow>(`${entrySelect} ORDER BY e.created_at DESC`).all()
      : db
          .prepare<[string], EntryRow>(`${entrySelect} WHERE e.task = ? ORDER BY e.created_at DESC`)
          .all(task);
  return rows.map(toEntry);
}

/** The entries whose key starts with `prefix`. */
export function findEntries(db: Database, prefix: string): CacheEntry[] {
  return db
    .prepare<[string, string], EntryRow>(
      `${entrySelect} WHERE e.key >= ? AND e.key < ? ORDER BY e.key LIMIT 2`,
    )
    .all(prefix, `${prefix}\uffff`)
    .map(toEntry);
}

/** Counts and sizes. */
export function cacheStats(db: Database): CacheStats {
  const row = db
    .prepare<
      [],
      {
        entries: number;
        objects: number;
        inline: number | null;
        blob: number | null;
        tasks: number;
      }
    >(
      `SELECT (SELECT count(*) FROM entries) AS entries, (SELECT count(DISTINCT task) FROM entries) AS tasks,
              count(*) + (SELECT count(*) FROM entries WHERE data IS NOT NULL) AS objects,
              coalesce(sum(CASE WHEN data IS NOT NULL THEN size END), 0)
                + coalesce((SELECT sum(length(data)) FROM entries WHERE data IS NOT NULL), 0) AS inline,
              sum(CASE WHEN data IS NULL THEN size END) AS blob
       FROM objects`,
    )
    .get() as {
    entries: number;
    objects: number;
    inline: number | null;
    blob: number | null;
    tasks: number;
  };
  return {
    entries: row.entries,
    objects: row.objects,
    inlineBytes: row.inline ?? 0,
    blobBytes: row.blob ?? 0,
    tasks: row.tasks,
  };
}

/** Removes every entry, or those of `task`; returns how many were removed. */
export function clearEntries(store: SqliteCacheStore, db: Database, task?: string): number {
  const removed = db.transaction(() =>
    task === undefined
      ? db.prepare("DELETE FROM entries").run().changes
      : db.prepare("DELETE FROM entries WHERE task = ?").run(task).changes,
  )();
  collectGarbage(store, db);
  return removed;
}

/**
 * Removes entries written before `olderThanMs` ago, then the oldest entries until the stored
 * outputs take at most `maxBytes`; returns how many entries were removed.
 */
export function pruneEntries(
  store: SqliteCacheStore,
  db: Database,
  options: { olderThanMs?: number; maxBytes?: number; now?: number },
): number {
  const now = options.now ?? Date.now();
  let removed = 0;
  db.transaction(() => {
    if (options.olderThanMs !== undefined) {
      removed += db
        .prepare("DELETE FROM entries WHERE created_at < ?")
        .run(now - options.olderThanMs).changes;
    }
    if (options.maxBytes !== undefined) {
      let total = 0;
      const remove = db.prepare("DELETE FROM entries WHERE key = ?");
      for (const entry of db
        .prepare<[], EntryRow>(`${entrySelect} ORDER BY e.created_at DESC`)
        .all()) {
        total += entry.size;
        if (total > options.maxBytes) removed += remove.run(entry.key).changes;
      }
    }
  })();
  collectGarbage(store, db);
  return removed;
}

/** Removes objects no entry points at, and their blob files. */
function collectGarbage(store: SqliteCacheStore, db: Database): void {
  const orphans = db
    .prepare<[], { hash: string; data: number }>(
      "SELECT hash, data IS NOT NULL AS data FROM objects WHERE hash NOT IN (SELECT hash FROM entries)",
    )
    .all();
  const remove = db.prepare("DELETE FROM objects WHERE hash = ?");
  db.transaction(() => {
    for (const o of orphans) remove.run(o.hash);
  })();
  for (const o of orphans) if (o.data === 0) store.blobs.remove(o.hash);
}

/** Parses a size such as `"1G"`, `"500M"`, `"2GiB"` or `"1024"` (bytes). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?$/.exec(text.trim());
  if (m === null) {
    throw new TypeError(
      `Expected a size such as "1G", "500M", "2GiB" or a number of bytes, got "${text}".`,
    );
  }
  const power = " KMGT".indexOf((m[2] ?? "").toUpperCase() || " ");
  return Math.floor(Number(m[1]) * (m[3] ? 1024 : 1000) ** power);
}
