/**
 * The error for a run name that is not stored, with the closest stored names.
 * @module
 */
import type { Database } from "../cache/database.js";
import { listRuns } from "../record/run-history.js";
import { didYouMean } from "./did-you-mean.js";
import { UsageError } from "./usage.js";

/** The stored names, for "did you mean" after an unknown run. */
function storedNames(db: Database): string[] {
  return listRuns(db, { limit: 10_000 }).map((r) => r.name);
}

/** The error for a run that is not stored. */
export function noSuchRun(db: Database, home: string, name: string): UsageError {
  return new UsageError(
    `There is no run "${name}" in ${home}.${didYouMean(name, storedNames(db))} List them with \`flyte-ts runs ls\`.`,
  );
}
