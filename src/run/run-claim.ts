/**
 * Claiming a run's name before it starts: run names never merge. A name already stored is an
 * error that points to `resume` and `replace`; `replace` discards the old record first; a run
 * whose owner is still going can be neither resumed nor replaced. The claiming process is
 * recorded as the run's owner (pid, host, process start time).
 * @module
 */
import { RuntimeUserError } from "../errors.js";
import { removeRun } from "../record/run-admin.js";
import { clearCancelRequest } from "../record/run-cancel.js";
import { ownerOf, ownerState, recordOwner, shownStatus, thisProcess } from "../record/run-owner.js";
import type { RunStore } from "../record/run-store.js";

/** What {@link claimRunName} needs. */
export interface ClaimRequest {
  readonly runStore: RunStore;
  readonly home: string;
  readonly name: string;
  /** The run resumes the stored run of this name. */
  readonly resuming: boolean;
  /** Discard a stored run of this name. */
  readonly replace: boolean;
  readonly now: number;
}

function storedRun(request: ClaimRequest): { status: string; started_at: number } | undefined {
  return request.runStore.database
    ?.prepare<[string], { status: string; started_at: number }>(
      "SELECT status, started_at FROM runs WHERE name = ?",
    )
    .get(request.name);
}

/**
 * Checks that the run may start under `request.name`, discards the old record for `replace`,
 * and records this process as the run's owner.
 * @throws RuntimeUserError (code `RunExists`) when the name is taken and neither resume nor
 *   replace was asked for, or (code `RunInProgress`) when its owner is still running it.
 */
export function claimRunName(request: ClaimRequest): void {
  const db = request.runStore.database;
  if (db === undefined) return;
  const { name, home } = request;
  const stored = storedRun(request);
  if (stored !== undefined) {
    const owner = ownerOf(db, name);
    if (stored.status === "running" && owner !== undefined && ownerState(owner) === "alive") {
      throw new RuntimeUserError(
        `Run "${name}" is running now (process ${owner.pid}). Wait for it, cancel it with \`flyte-ts runs cancel ${name}\`, or start this run under another name.`,
        { code: "RunInProgress" },
      );
    }
    if (!request.resuming && !request.replace) {
      const started = new Date(stored.started_at);
      const status = shownStatus(db, name, stored.status);
      throw new RuntimeUserError(
        `A run named "${name}" is already stored in ${home} (${status}, started ${started.toISOString()}); run names never merge. ` +
          `Resume it with \`--resume ${name}\` (\`withRunContext({ resume: "${name}" })\`), ` +
          `discard it with \`--replace\` (\`withRunContext({ name: "${name}", replace: true })\`), or pick another name.`,
        { code: "RunExists" },
      );
    }
    if (request.replace && !request.resuming) removeRun(db, home, name);
  }
  try {
    clearCancelRequest(db, name);
    recordOwner(db, name, thisProcess(request.now));
  } catch {
    // A store that cannot be written is warned about by the run store itself.
  }
}

/**
 * Claims a name drawn by `draw` (a generated run name) and returns it, drawing again while the
 * drawn one is taken: a generated name is the minute's stamp and 20 random bits, which two runs
 * started in the same minute share a few times in a million — and 1,000 short runs in a soak
 * did. At most 8 draws; the last one's error is thrown.
 */
export function claimDrawnName(request: Omit<ClaimRequest, "name">, draw: () => string): string {
  for (let draws = 1; ; draws++) {
    const name = draw();
    try {
      claimRunName({ ...request, name });
      return name;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "RunExists" || draws >= 8) throw error;
    }
  }
}
