/**
 * An attempt's abort: what an AbortController is to a body, at a fraction of the cost for the
 * engine. Its `AbortSignal` is made only when something reads `signal` (a body asking for
 * `flyte.ctx().signal`, an offloaded job, a wait for admission); the engine's own listeners are
 * plain callbacks. Making a signal and listening on it cost about 15 µs of every task call, for
 * a signal most bodies never look at.
 * @module
 */

/** Stops one attempt; read by the executor that runs it and, through `signal`, by its body. */
export class AttemptAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #callbacks: (() => void)[] | undefined;

  /** Whether the attempt was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (the error the attempt fails with), once it was. */
  get reason(): unknown {
    return this.#reason;
  }

  /** An AbortSignal that aborts with the attempt (made on first read; aborted already if it is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts the attempt with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks !== undefined) for (const callback of callbacks) callback();
  }

  /**
   * Calls `callback` once when the attempt is aborted (never, if it already was: check
   * `aborted` first); returns a function that unregisters it.
   */
  onAbort(callback: () => void): () => void {
    if (this.#aborted) return noop;
    const callbacks = this.#callbacks ?? [];
    this.#callbacks = callbacks;
    callbacks.push(callback);
    return () => {
      const at = this.#callbacks?.indexOf(callback) ?? -1;
      if (at >= 0) this.#callbacks?.splice(at, 1);
    };
  }

  /** An attempt abort that follows `signal` (for callers that hold a plain AbortSignal). */
  static following(signal: AbortSignal): AttemptAbort {
    const abort = new AttemptAbort();
    if (signal.aborted) abort.abort(signal.reason);
    else signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
    return abort;
  }
}

function noop(): void {}
