/**
 * Each action's inputs and output in `runs.db` (table `action_io`): its label, a bounded preview
 * of every input and of the output, and the whole values when they are small enough
 * (`recorded-value.ts`). The output of an action that ran is already kept by the run store (for
 * resume); this table keeps the output of cache hits, which the run store does not.
 * @module
 */
import { lookupTask } from "../api/task-environment.js";
import { cacheKey } from "../cache/cache-key.js";
import type { Database } from "../cache/database.js";
import { decodeValue } from "../cache/value-codec.js";
import { namedInputs } from "./action-label.js";
import type { RunEvent, RunObserver } from "./events.js";
import { recordedBytes, recordedPreview } from "./recorded-value.js";

const ioDdl = `
  CREATE TABLE IF NOT EXISTS action_io (
    run TEXT NOT NULL, id TEXT NOT NULL, label TEXT, inputs_preview TEXT, inputs BLOB,
    output_preview TEXT, output BLOB, cache_key TEXT, recorded_at INTEGER,
    PRIMARY KEY (run, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS action_io_cache_key ON action_io (cache_key);
`;

const ready = new WeakSet<Database>();

/** Creates the `action_io` table in `db` if it is missing (once per connection). */
export function ensureIoTable(db: Database): void {
  if (ready.has(db)) return;
  db.exec(ioDdl);
  ready.add(db);
}

/** How long rows wait before they are written. Milliseconds. */
const FLUSH_DELAY_MS = 50;

/** An observer that records the inputs and outputs of run `run`, and how to write what is queued. */
export interface IoRecorder {
  readonly observe: RunObserver;
  /** Writes every queued row now. */
  flush(): void;
}

type Row = [
  string,
  string,
  string | null,
  string | null,
  Buffer | null,
  string | null,
  Buffer | null,
  string | null,
  number,
];

/**
 * The cache key of an action of a cached task (so `flyte-ts cache show` can tell which inputs
 * made an entry), from the task registered under `task` and the inputs' hash.
 */
function keyOf(
  task: string,
  inputs: readonly unknown[],
  inputsHash: string | undefined,
): string | null {
  if (inputsHash === undefined) return null;
  const template = lookupTask(task);
  if (template === undefined || !template.cache.isEnabled()) return null;
  try {
    return cacheKey(template, inputs, inputsHash);
  } catch {
    return null;
  }
}

/** Records the inputs and outputs of run `run` into `db` (nothing when `db` is undefined). */
export function ioRecorder(db: Database | undefined, run: string): IoRecorder {
  if (db === undefined) return { observe: () => {}, flush: () => {} };
  try {
    ensureIoTable(db);
  } catch {
    return { observe: () => {}, flush: () => {} };
  }
  const insert = db.prepare(
    "INSERT OR REPLACE INTO action_io (run, id, label, inputs_preview, inputs, output_preview, output, cache_key, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const finish = db.prepare(
    "UPDATE action_io SET output_preview = ?, output = ? WHERE run = ? AND id = ?",
  );
  let pending = new Map<string, Row>();
  let updates: [string | null, Buffer | null, string, string][] = [];
  const hits = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0 && updates.length === 0) return;
    const rows = pending;
    const later = updates;
    pending = new Map();
    updates = [];
    try {
      db.transaction(() => {
        for (const row of rows.values()) insert.run(...row);
        for (const update of later) finish.run(...update);
      }).immediate();
    } catch {
      // A busy or damaged file: these rows are lost, the run goes on.
    }
  };
  const schedule = () => {
    if (timer !== undefined) return;
    timer = setTimeout(flush, FLUSH_DELAY_MS);
    timer.unref();
  };
  const observe = (event: RunEvent) => {
    switch (event.type) {
      case "action-queued": {
        const inputs = event.inputs ?? [];
        pending.set(event.action, [
          run,
          event.action,
          event.label ?? null,
          JSON.stringify(namedInputs(event.parameters, inputs)),
          recordedBytes(inputs) ?? null,
          null,
          null,
          keyOf(event.task, inputs, event.inputsHash),
          event.at,
        ]);
        break;
      }
      case "action-cache-hit":
        if (event.source !== "resume") hits.add(event.action);
        return;
      case "action-finished": {
        if (event.status !== "succeeded") return;
        const preview = recordedPreview(event.output);
        // The run store keeps the output of actions that ran; a cache hit's is kept here.
        const bytes = hits.delete(event.action) ? (recordedBytes(event.output) ?? null) : null;
        const row = pending.get(event.action);
        if (row !== undefined) {
          row[5] = preview;
          row[6] = bytes;
        } else {
          updates.push([preview, bytes, run, event.action]);
        }
        break;
      }
      default:
        return;
    }
    schedule();
  };
  return { observe, flush };
}

/** One action's recorded inputs and output. */
export interface ActionIo {
  readonly label: string | undefined;
  readonly inputs: readonly { readonly name: string; readonly preview: string }[] | undefined;
  readonly output: string | undefined;
}

/** The recorded inputs and outputs of the actions of `run`, by action id. */
export function loadActionIo(db: Database, run: string): Map<string, ActionIo> {
  ensureIoTable(db);
  const rows = db
    .prepare<
      [string],
      {
        id: string;
        label: string | null;
        inputs_preview: string | null;
        output_preview: string | null;
      }
    >("SELECT id, label, inputs_preview, output_preview FROM action_io WHERE run = ?")
    .all(run);
  const out = new Map<string, ActionIo>();
  for (const row of rows) {
    let inputs: ActionIo["inputs"];
    try {
      inputs = row.inputs_preview === null ? undefined : JSON.parse(row.inputs_preview);
    } catch {
      inputs = undefined;
    }
    out.set(row.id, {
      label: row.label ?? undefined,
      inputs,
      output: row.output_preview ?? undefined,
    });
  }
  return out;
}

/** The whole recorded values of one action: `undefined` for what was not kept (too large). */
export interface ActionValues {
  readonly inputs: readonly unknown[] | undefined;
  readonly output: { readonly value: unknown } | undefined;
}

function decoded(bytes: Buffer | null | undefined): { value: unknown } | undefined {
  if (bytes === null || bytes === undefined) return undefined;
  try {
    return { value: decodeValue(bytes) };
  } catch {
    return undefined;
  }
}

/** The whole inputs and output recorded for action `id` of `run`. */
export function loadActionValues(db: Database, run: string, id: string): ActionValues {
  ensureIoTable(db);
  const io = db
    .prepare<[string, string], { inputs: Buffer | null; output: Buffer | null }>(
      "SELECT inputs, output FROM action_io WHERE run = ? AND id = ?",
    )
    .get(run, id);
  const stored = db
    .prepare<[string, string], { output: Buffer | null }>(
      "SELECT output FROM actions WHERE run = ? AND id = ?",
    )
    .get(run, id);
  const inputs = decoded(io?.inputs)?.value;
  return {
    inputs: Array.isArray(inputs) ? inputs : undefined,
    output: decoded(io?.output) ?? decoded(stored?.output),
  };
}

/** The inputs that made cache entry `key`: those of the latest recorded action with that key. */
export function inputsOfCacheKey(
  db: Database,
  key: string,
): { readonly run: string; readonly action: string; readonly io: ActionIo } | undefined {
  ensureIoTable(db);
  const row = db
    .prepare<
      [string],
      {
        run: string;
        id: string;
        label: string | null;
        inputs_preview: string | null;
        output_preview: string | null;
      }
    >(
      "SELECT run, id, label, inputs_preview, output_preview FROM action_io WHERE cache_key = ? ORDER BY recorded_at DESC LIMIT 1",
    )
    .get(key);
  if (row === undefined) return undefined;
  let inputs: ActionIo["inputs"];
  try {
    inputs = row.inputs_preview === null ? undefined : JSON.parse(row.inputs_preview);
  } catch {
    inputs = undefined;
  }
  return {
    run: row.run,
    action: row.id,
    io: { label: row.label ?? undefined, inputs, output: row.output_preview ?? undefined },
  };
}
