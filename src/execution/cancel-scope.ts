/**
 * A run's cancellation, shared by all its attempts. One listener on the run's signal fans out to
 * a Set of callbacks: an EventTarget removes listeners in linear time, which made a 100k fan-out
 * quadratic when every attempt listened to the signal itself.
 * @module
 */

/** Callbacks to run when a run is cancelled. */
export class CancelScope {
  /** Aborts when the run is cancelled. */
  readonly signal: AbortSignal;
  readonly #callbacks = new Set<() => void>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener(
      "abort",
      () => {
        const callbacks = [...this.#callbacks];
        this.#callbacks.clear();
        for (const callback of callbacks) callback();
      },
      { once: true },
    );
  }

  /**
   * Calls `callback` when the run is cancelled (at once if it already is); returns a function
   * that unregisters it.
   */
  onCancel(callback: () => void): () => void {
    if (this.signal.aborted) {
      callback();
      return () => {};
    }
    this.#callbacks.add(callback);
    return () => {
      this.#callbacks.delete(callback);
    };
  }
}
