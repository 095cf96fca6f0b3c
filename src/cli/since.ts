/**
 * Times on the store commands' command lines: `--since 2h` / `--since 2026-11-23`, and
 * durations shown in their tables.
 * @module
 */
import { durationToMs, formatMs } from "../internal/time.js";
import { UsageError } from "./usage.js";

/**
 * The time `text` names, in milliseconds since the epoch: a duration back from `now` (`"2h"`,
 * `"7d"`), or a date or date-time (`"2026-11-23"`, `"2026-11-23T08:00"`).
 * @throws UsageError naming both forms when it is neither.
 */
export function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  try {
    return now - durationToMs(text);
  } catch {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw new UsageError(
    `--since expects a duration back from now ("30m", "2h", "7d") or a date ("2026-11-23", "2026-11-23T08:00"), got "${text}".`,
  );
}

/** A duration for a table cell: `"850ms"`, `"12.3s"`, `"4m05s"`; `"-"` when unknown. */
export function formatDuration(ms: number | undefined): string {
  return ms === undefined || ms < 0 ? "-" : formatMs(ms);
}
