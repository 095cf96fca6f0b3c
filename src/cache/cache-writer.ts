/**
 * The cache writer thread: writes a large batch of cache entries (a fan-out's results) beside
 * the thread that encodes them. The store posts a batch in chunks of packed rows
 * (cache-rows.ts) as its writes come in; the thread opens one transaction at the first chunk,
 * writes each as it arrives and commits after the last, then reports the batch committed, and
 * only then do its `set` promises resolve. So the outputs are encoded and packed on one thread
 * while the previous chunk is sealed and inserted on the other, and a crash loses nothing a
 * resolved `set` promised. When the thread cannot start or dies, what it has not reported
 * committed is written on the calling thread instead (from the chunks kept until then).
 * @module
 */
import { Worker } from "node:worker_threads";
import { notRecorded } from "../internal/not-recorded.js";

/** A chunk of one batch, as posted to the thread. */
export interface PostedChunk {
  readonly batch: number;
  /** Packed rows (cache-rows.ts). */
  readonly rows: Uint8Array;
  /** When the rows were written (their `created_at`). Milliseconds since the epoch. */
  readonly nowMs: number;
  /** The batch's last chunk: the thread commits after it. */
  readonly last: boolean;
}

/** What the thread reports after a batch's last chunk. */
export interface BatchOutcome {
  readonly batch: number;
  /** Why the batch was not written (its transaction rolled back), as data. */
  readonly failure?: { readonly message: string; readonly code: string | undefined };
}

/** The message that has the thread close its connection (checkpointing the WAL) and stop. */
export const closeMessage = "close";

/** The thread's program: dist's, also when the engine runs from `src/` (tests). */
const threadUrl: URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/cache/cache-writer-thread.js", import.meta.url)
  : new URL("./cache-writer-thread.js", import.meta.url);

/** A batch posted (in part) and not yet reported committed. */
interface Flight {
  /** What was posted, kept to be written here if the thread dies first. */
  readonly chunks: Uint8Array[];
  rows: number;
  ended: boolean;
  readonly done: () => void;
}

/**
 * The thread that writes one `cache.db`'s large batches. It keeps the process alive only while
 * a batch is in flight (a `set` awaits it).
 */
export class CacheWriter {
  readonly #worker: Worker;
  readonly #flights = new Map<number, Flight>();
  readonly #writeHere: (chunks: readonly Uint8Array[], rows: number) => void;
  readonly #exited: Promise<void>;
  #gone = false;
  #batches = 0;

  /**
   * Starts the thread for `file` (already created, with its schema). `writeHere` writes chunks
   * the thread could not, on the calling thread, noting a failure itself.
   * @param thread - the thread's program (tests pass one that fails).
   */
  constructor(
    file: string,
    writeHere: (chunks: readonly Uint8Array[], rows: number) => void,
    thread: URL = threadUrl,
  ) {
    this.#writeHere = writeHere;
    // The program is plain JavaScript: no loader (such as tsx) of the parent's is needed there.
    this.#worker = new Worker(thread, { workerData: { file }, execArgv: [] });
    this.#worker.unref();
    this.#worker.on("error", () => {});
    this.#worker.on("message", (outcome: BatchOutcome) => this.#reported(outcome));
    this.#exited = new Promise((resolve) => {
      this.#worker.on("exit", () => {
        this.#gone = true;
        for (const [batch, flight] of this.#flights) if (flight.ended) this.#rescue(batch, flight);
        resolve();
      });
    });
  }

  /** Whether batches can still be started here (the thread has not stopped). */
  get usable(): boolean {
    return !this.#gone;
  }

  /** Whether a batch is in flight: later writes go through the thread too, to keep their order. */
  get busy(): boolean {
    return this.#flights.size > 0;
  }

  /** Starts a batch; `done` is called once it is committed, written here, or noted as lost. */
  open(done: () => void): number {
    const batch = ++this.#batches;
    this.#flights.set(batch, { chunks: [], rows: 0, ended: false, done });
    if (this.#flights.size === 1) this.#worker.ref();
    return batch;
  }

  /** Posts `count` packed `rows` of `batch`; after its `last` chunk the batch is committed. */
  post(batch: number, rows: Uint8Array, count: number, last: boolean): void {
    const flight = this.#flights.get(batch);
    if (flight === undefined) return;
    flight.chunks.push(rows);
    flight.rows += count;
    flight.ended = last;
    if (this.#gone) {
      if (last) this.#rescue(batch, flight);
      return;
    }
    const chunk: PostedChunk = { batch, rows, nowMs: Date.now(), last };
    this.#worker.postMessage(chunk);
  }

  /**
   * Waits for every batch in flight (the caller has posted their last chunks), then has the
   * thread close its connection and stop.
   */
  async close(): Promise<void> {
    if (!this.#gone) {
      this.#worker.ref();
      this.#worker.postMessage(closeMessage);
    }
    await this.#exited;
  }

  #reported({ batch, failure }: BatchOutcome): void {
    const flight = this.#flights.get(batch);
    if (flight === undefined) return;
    this.#settled(batch);
    if (failure !== undefined) {
      notRecorded.note(
        "cache entries",
        Object.assign(new Error(failure.message), { code: failure.code }),
        flight.rows,
      );
    }
    flight.done();
  }

  /** Writes a batch the thread did not report committed on this thread. */
  #rescue(batch: number, flight: Flight): void {
    this.#settled(batch);
    try {
      this.#writeHere(flight.chunks, flight.rows);
    } finally {
      flight.done();
    }
  }

  #settled(batch: number): void {
    this.#flights.delete(batch);
    if (this.#flights.size === 0 && !this.#gone) this.#worker.unref();
  }
}
