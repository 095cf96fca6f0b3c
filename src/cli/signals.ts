/**
 * The signals that cancel a `flyte-ts run` like Ctrl-C: SIGINT, SIGTERM (what `kill`, systemd,
 * Docker and CI runners send) and SIGHUP (the terminal went away). The run is cancelled (workers
 * stopped, the run recorded as cancelled) and the command exits with 128 + the signal's number.
 * A second signal of the same kind ends the process at once, as without flyte-ts.
 * @module
 */
import { constants } from "node:os";

/** The signals that cancel a run. */
export const cancellingSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** One of {@link cancellingSignals}. */
export type CancellingSignal = (typeof cancellingSignals)[number];

/** Cancels runs on the cancelling signals while installed. */
export interface SignalCancellation {
  /** The first signal received, if any. */
  readonly received: CancellingSignal | undefined;
  /** Removes the handlers (a later signal acts as it would without them). */
  stop(): void;
}

/** Aborts `cancel` on the first SIGINT, SIGTERM or SIGHUP. */
export function cancelOnSignals(cancel: AbortController): SignalCancellation {
  let received: CancellingSignal | undefined;
  const handlers = cancellingSignals.map((signal) => {
    const handler = () => {
      received ??= signal;
      const how = signal === "SIGINT" ? "SIGINT (Ctrl-C)" : signal;
      cancel.abort(new Error(`interrupted by ${how}`));
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get received() {
      return received;
    },
    stop() {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    },
  };
}

/** The exit status of a command ended by `signal`: 128 + its number (130, 143, 129). */
export function exitStatusFor(signal: CancellingSignal): number {
  return 128 + constants.signals[signal];
}
