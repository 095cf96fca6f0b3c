/**
 * Each action's inputs and output in `runs.db`. They ride on the action's own row, so recording
 * them adds no row: its `queued` column holds the action's label, a bounded preview of every
 * input and, when the previews do not carry them exactly, the whole inputs (`recorded-value.ts`);
 * its `finished` column a preview of the output. (Runs recorded before schema version 4 kept
 * them on their `action-queued` and `action-finished` event rows, which are still read.)
 * The whole output of an action that ran is the run store's (kept for resume); a cached task's
 * is in the cache, under the key kept in the small `cache_keys` table, which also lets
 * `flyte-ts cache ls/show` name the inputs that made an entry.
 * @module
 */
import type { TaskTemplate } from "../api/task.js";
import { lookupTask } from "../api/task-environment.js";
import { cacheKey } from "../cache/cache-key.js";
import type { Database } from "../cache/database.js";
import { decodeValue } from "../cache/value-codec.js";
import { inputPreviews, outputPreview } from "./action-label.js";
import type { RunEvent, RunObserver } from "./events.js";
import { previewIsValue, recordedBytes, valueOfPreview } from "./recorded-value.js";

type Queued = Extract<RunEvent, { type: "action-queued" }>;
type Finished = Extract<RunEvent, { type: "action-finished" }>;

/** An input as recorded: its parameter's name and a preview of its value. */
export interface RecordedInput {
  readonly name: string;
  readonly preview: string;
}

/** What an `action-queued` event row keeps (its `data`, as JSON). */
interface QueuedData {
  readonly label?: string;
  readonly inputs?: readonly RecordedInput[];
  /** The whole inputs (`node:v8`, base64), when the previews do not carry them exactly. */
  readonly values?: string;
  /** The previews are the inputs exactly (numbers, booleans, short strings). */
  readonly exact?: true;
  /** The action's cache key, for a cached task. */
  readonly key?: string;
}

/** Tasks by name, `null` for one without a cache (a task's cache never changes). */
const cachedTemplates = new Map<string, TaskTemplate | null>();

/** The registered task `name` when it has a cache. */
function cachedTemplate(name: string): TaskTemplate | undefined {
  let template = cachedTemplates.get(name);
  if (template === undefined) {
    const found = lookupTask(name);
    if (found === undefined) return undefined;
    template = found.cache.isEnabled() ? found : null;
    cachedTemplates.set(name, template);
  }
  return template ?? undefined;
}

/**
 * The cache key of an action of a cached task, from the task registered under `task` and the
 * inputs' hash; `undefined` for a task without a cache.
 */
function keyOf(event: Queued): string | undefined {
  if (event.inputsHash === undefined) return undefined;
  const template = cachedTemplate(event.task);
  if (template === undefined) return undefined;
  try {
    return cacheKey(template, event.inputs ?? [], event.inputsHash);
  } catch {
    return undefined;
  }
}

/** An event's cache key, kept on it under a symbol (see action-label.ts): `null` for none. */
const keyMade = Symbol("flyte-ts.event-cache-key");

function memoKey(event: Queued): string | undefined {
  const memo = event as { [keyMade]?: string | null };
  let key = memo[keyMade];
  if (key === undefined) {
    key = keyOf(event) ?? null;
    memo[keyMade] = key;
  }
  return key ?? undefined;
}

/** The data of an `action-queued` event row: label, input previews, whole inputs or `exact`. */
export function queuedData(event: Queued): string | null {
  if (event.inputs === undefined) return null;
  const previews = inputPreviews(event);
  const exact = event.inputs.every((value, i) => previewIsValue(value, previews[i]?.preview ?? ""));
  const bytes = exact ? undefined : recordedBytes(event.inputs);
  const key = memoKey(event);
  // Written out (every call makes one): the fields of QueuedData, in its order.
  let json = event.label === undefined ? "{" : `{"label":${JSON.stringify(event.label)},`;
  json += `"inputs":${JSON.stringify(previews)}`;
  if (exact) json += ',"exact":true';
  else if (bytes !== undefined) json += `,"values":"${bytes.toString("base64")}"`;
  if (key !== undefined) json += `,"key":${JSON.stringify(key)}`;
  return `${json}}`;
}

/** The data of a succeeded `action-finished` event row: its status and a preview of the output. */
export function finishedData(event: Finished): string {
  return JSON.stringify({ status: event.status, output: outputPreview(event) });
}

const keyDdl = `
  CREATE TABLE IF NOT EXISTS cache_keys (
    key TEXT NOT NULL, run TEXT NOT NULL, action TEXT NOT NULL, at INTEGER NOT NULL,
    label TEXT, inputs TEXT, PRIMARY KEY (key, run, action)
  ) WITHOUT ROWID;
`;

const ready = new WeakSet<Database>();

/** Creates the `cache_keys` table in `db` if it is missing (once per connection). */
export function ensureKeyTable(db: Database): void {
  if (ready.has(db)) return;
  db.exec(keyDdl);
  ready.add(db);
}

/** How long key rows wait before they are written. Milliseconds. */
const FLUSH_DELAY_MS = 50;

/** An observer that keeps the cache keys of a run's cached actions, and how to write them now. */
export interface KeyRecorder {
  readonly observe: RunObserver;
  flush(): void;
}

/** Records, for run `run`, which action (and inputs) each cache key came from. */
export function cacheKeyRecorder(db: Database | undefined, run: string): KeyRecorder {
  if (db === undefined) return { observe: () => {}, flush: () => {} };
  try {
    ensureKeyTable(db);
  } catch {
    return { observe: () => {}, flush: () => {} };
  }
  const insert = db.prepare(
    "INSERT OR REPLACE INTO cache_keys (key, run, action, at, label, inputs) VALUES (?, ?, ?, ?, ?, ?)",
  );
  let rows: unknown[][] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (rows.length === 0) return;
    const batch = rows;
    rows = [];
    try {
      db.transaction(() => {
        for (const row of batch) insert.run(...row);
      }).immediate();
    } catch {
      // A busy or damaged file: `cache show` will not name these entries' inputs.
    }
  };
  const observe = (event: RunEvent) => {
    if (event.type !== "action-queued" || event.inputs === undefined) return;
    const key = memoKey(event);
    if (key === undefined) return;
    rows.push([
      key,
      run,
      event.action,
      event.at,
      event.label ?? null,
      JSON.stringify(inputPreviews(event)),
    ]);
    if (timer === undefined) {
      timer = setTimeout(flush, FLUSH_DELAY_MS);
      timer.unref();
    }
  };
  return { observe, flush };
}

/** One action's recorded inputs and output. */
export interface ActionIo {
  readonly label: string | undefined;
  readonly inputs: readonly RecordedInput[] | undefined;
  readonly output: string | undefined;
}

function parse<T>(text: string | null): T | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The recorded inputs and outputs of the actions of `run`, by action id (the latest attempt's). */
export function loadActionIo(db: Database, run: string): Map<string, ActionIo> {
  const out = new Map<string, ActionIo>();
  const rows = db
    .prepare<[string], { id: string; queued: string | null; finished: string | null }>(
      "SELECT id, queued, finished FROM actions WHERE run = ?",
    )
    .all(run);
  let older = false;
  for (const row of rows) {
    if (row.queued === null && row.finished === null) {
      older = true;
      continue;
    }
    const data = parse<QueuedData>(row.queued);
    out.set(row.id, {
      label: data?.label,
      inputs: data?.inputs,
      output: parse<{ output?: string }>(row.finished)?.output,
    });
  }
  if (older) for (const [id, io] of loadOlderActionIo(db, run)) if (!out.has(id)) out.set(id, io);
  return out;
}

/** What runs recorded before schema version 4 kept on their event rows. */
function loadOlderActionIo(db: Database, run: string): Map<string, ActionIo> {
  const rows = db
    .prepare<[string], { action: string; type: string; data: string | null }>(
      "SELECT action, type, data FROM events WHERE run = ? AND type IN ('action-queued', 'action-finished') ORDER BY seq",
    )
    .all(run);
  const out = new Map<string, ActionIo>();
  for (const row of rows) {
    const before = out.get(row.action);
    if (row.type === "action-queued") {
      const data = parse<QueuedData>(row.data);
      out.set(row.action, {
        label: data?.label,
        inputs: data?.inputs,
        output: undefined,
      });
    } else if (before !== undefined) {
      const output = parse<{ output?: string }>(row.data)?.output;
      if (output !== undefined) out.set(row.action, { ...before, output });
    }
  }
  return out;
}

/** The whole recorded values of one action: `undefined` for what was not kept. */
export interface ActionValues {
  readonly inputs: readonly unknown[] | undefined;
  readonly output: { readonly value: unknown } | undefined;
  /** The action's cache key, for a cached task (its output may be read from the cache). */
  readonly key: string | undefined;
}

function decoded(bytes: Buffer | null | undefined): { value: unknown } | undefined {
  if (bytes === null || bytes === undefined) return undefined;
  try {
    return { value: decodeValue(bytes) };
  } catch {
    return undefined;
  }
}

/** The whole inputs recorded for action `id` of `run`, its stored output and its cache key. */
export function loadActionValues(db: Database, run: string, id: string): ActionValues {
  const stored = db
    .prepare<[string, string], { output: Buffer | null; queued: string | null }>(
      "SELECT output, queued FROM actions WHERE run = ? AND id = ?",
    )
    .get(run, id);
  // Runs recorded before schema version 4 kept the inputs on the queued event's row.
  const queued =
    stored?.queued ??
    db
      .prepare<[string, string], { data: string | null }>(
        "SELECT data FROM events WHERE run = ? AND action = ? AND type = 'action-queued' ORDER BY seq DESC LIMIT 1",
      )
      .get(run, id)?.data ??
    null;
  const data = parse<QueuedData>(queued);
  let inputs: unknown[] | undefined;
  try {
    if (data?.exact) inputs = data.inputs?.map((input) => valueOfPreview(input.preview));
    else if (data?.values !== undefined) {
      const value = decodeValue(Buffer.from(data.values, "base64"));
      inputs = Array.isArray(value) ? value : undefined;
    }
  } catch {
    inputs = undefined;
  }
  return { inputs, output: decoded(stored?.output), key: data?.key };
}

/** The inputs that made cache entry `key`: those of the latest recorded action with that key. */
export function inputsOfCacheKey(
  db: Database,
  key: string,
): { readonly run: string; readonly action: string; readonly io: ActionIo } | undefined {
  ensureKeyTable(db);
  const row = db
    .prepare<
      [string],
      { run: string; action: string; label: string | null; inputs: string | null }
    >("SELECT run, action, label, inputs FROM cache_keys WHERE key = ? ORDER BY at DESC LIMIT 1")
    .get(key);
  if (row === undefined) return undefined;
  return {
    run: row.run,
    action: row.action,
    io: {
      label: row.label ?? undefined,
      inputs: parse<RecordedInput[]>(row.inputs),
      output: undefined,
    },
  };
}
