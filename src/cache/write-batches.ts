/**
 * How a cache store's writes reach `cache.db`: the writes made in one turn of the event loop
 * form a batch, written in one transaction, and each `set` resolves once it has committed. A
 * small batch is written on the calling thread when the turn ends. A batch that grows past
 * {@link THREAD_ROWS} writes (a fan-out's results) goes to the cache writer thread
 * (cache-writer.ts) in chunks as it grows, so its rows are inserted there while the rest are
 * still being encoded here; the thread commits after the chunk posted when the turn ends.
 * @module
 */

import type { Transaction } from "better-sqlite3";
import { outsideFrame } from "../context/context.js";
import { notRecorded } from "../internal/not-recorded.js";
import { prepareRowStatements, RowPacker, writeRows } from "./cache-rows.js";
import { CacheWriter } from "./cache-writer.js";
import type { Database } from "./database.js";

/**
 * A batch that reaches this many writes in one turn goes to the writer thread, in chunks of
 * this many: a thread start (milliseconds) pays off only for a fan-out's results.
 */
const THREAD_ROWS = 512;
/** …or this many bytes of packed rows. */
const THREAD_BYTES = 4 * 1_048_576;

/**
 * Posts the last chunk of every batch still open on a writer thread (of any store in this
 * process). Called before every write on a calling thread's connection: a writer thread holds
 * the write lock until that last chunk, which only the calling thread can post.
 */
export function endThreadBatches(): void {
  for (const end of openOnThread) end();
}
const openOnThread = new Set<() => void>();

/** The writes of one turn, and the promise they all resolve with once committed. */
export interface Batch {
  readonly rows: RowPacker;
  readonly committed: Promise<void>;
}

interface OpenBatch extends Batch {
  readonly done: () => void;
  /** Its number on the writer thread, once its first chunk went there. */
  thread: number | undefined;
}

/** The batches of one store's `cache.db`. */
export class WriteBatches {
  readonly #file: string;
  readonly #database: () => Database | undefined;
  /** Writes chunks of rows in one transaction on the store's connection (made once: a second). */
  #write: Transaction<(chunks: readonly Uint8Array[], nowMs: number) => void> | undefined;
  /** Every batch packs here: each hands its rows over as it ends, so the next starts empty. */
  readonly #rows = new RowPacker();
  /** The writer thread: started by the first large batch; `null` once it could not be. */
  #thread: CacheWriter | undefined | null;
  #batch: OpenBatch | undefined;
  readonly #end = () => this.flush();

  /** @param database - the store's connection (opened on first use). */
  constructor(file: string, database: () => Database | undefined) {
    this.#file = file;
    this.#database = database;
  }

  /** This turn's batch, started (and its end scheduled) by the turn's first write. */
  current(): Batch {
    if (this.#batch === undefined) {
      let done = () => {};
      const committed = new Promise<void>((resolve) => {
        done = resolve;
      });
      this.#batch = { rows: this.#rows, committed, done, thread: undefined };
      setImmediate(this.#end);
    }
    return this.#batch;
  }

  /** After a write was packed into {@link current}: a large batch posts what it has packed. */
  packed(): void {
    const batch = this.#batch;
    if (batch !== undefined && (batch.rows.rows >= THREAD_ROWS || batch.rows.bytes >= THREAD_BYTES))
      this.#toThread(batch, false);
  }

  /** Ends the open batch: the writer thread commits it, or it is written here now. */
  flush(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    if (batch.thread !== undefined) {
      openOnThread.delete(this.#end);
      this.#toThread(batch, true);
      return;
    }
    // Behind a batch in flight on the thread, to keep the writes' order.
    if (this.#thread?.busy === true && this.#toThread(batch, true)) return;
    try {
      const count = batch.rows.rows;
      if (count > 0) this.#writeHere([batch.rows.take()], count);
    } finally {
      batch.done();
    }
  }

  /** Ends the open batch and waits until the writer thread has written everything and stopped. */
  async close(): Promise<void> {
    this.flush();
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.close();
    this.#write = undefined;
  }

  /**
   * Posts what `batch` has packed to the writer thread (starting it), `last` after its final
   * write. Returns false, posting nothing, when the thread cannot be used.
   */
  #toThread(batch: OpenBatch, last: boolean): boolean {
    let writer = this.#thread;
    if (writer === undefined) {
      try {
        const writeHere = (chunks: readonly Uint8Array[], rows: number) =>
          this.#writeHere(chunks, rows);
        // Outside the frame of the call that wrote: the thread outlives its run.
        writer = outsideFrame(() => new CacheWriter(this.#file, writeHere));
      } catch {
        writer = null;
      }
      this.#thread = writer;
    }
    if (writer === null || (batch.thread === undefined && !writer.usable)) return false;
    if (batch.thread === undefined) {
      batch.thread = writer.open(batch.done);
      openOnThread.add(this.#end);
    }
    const count = batch.rows.rows;
    writer.post(batch.thread, batch.rows.take(), count, last);
    return true;
  }

  /** Writes packed rows in one transaction on this thread; a failure is noted, not thrown. */
  #writeHere(chunks: readonly Uint8Array[], rows: number): void {
    const db = this.#database();
    if (db === undefined) return;
    try {
      endThreadBatches();
      this.#write ??= writeTransaction(db);
      this.#write.immediate(chunks, Date.now());
    } catch (error) {
      notRecorded.note("cache entries", error, rows);
    }
  }
}

function writeTransaction(db: Database) {
  const statements = prepareRowStatements(db);
  return db.transaction((chunks: readonly Uint8Array[], nowMs: number) => {
    for (const chunk of chunks) writeRows(statements, chunk, nowMs);
  });
}
