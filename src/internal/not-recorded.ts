/**
 * What could not be written to disk (a full disk, a read-only folder): the cache entries, run
 * store rows, report and logs a run produced but could not keep. Writers note each loss here
 * instead of failing the run or warning on their own; the run prints one warning naming them
 * all when it ends, after its results have reached the caller.
 * @module
 */
import { knownSecrets } from "./secret-mask.js";

interface Loss {
  count: number;
  countable: boolean;
  error: unknown;
}

/** Losses noted since the last report, by what was lost. */
export class NotRecorded {
  readonly #losses = new Map<string, Loss>();

  /**
   * Notes that `what` could not be written because of `error`. `count` is how many of them
   * (`"cache entries"`, 12); leave it out for a single thing (`"the run report (report.html)"`).
   */
  note(what: string, error: unknown, count?: number): void {
    const loss = this.#losses.get(what);
    if (loss === undefined) {
      this.#losses.set(what, { count: count ?? 1, countable: count !== undefined, error });
    } else loss.count += count ?? 0;
  }

  /** Whether anything was noted since the last {@link take}. */
  get empty(): boolean {
    return this.#losses.size === 0;
  }

  /**
   * The one warning naming everything noted since the last call (and forgets it), or
   * `undefined` when nothing was lost. `where` names the folder that could not be written.
   */
  take(where: string): string | undefined {
    if (this.#losses.size === 0) return undefined;
    const parts: string[] = [];
    const reasons = new Set<string>();
    for (const [what, loss] of this.#losses) {
      parts.push(loss.countable ? `${loss.count} ${what}` : what);
      reasons.add(reasonOf(loss.error));
    }
    this.#losses.clear();
    const full = [...reasons].some((r) => /ENOSPC|SQLITE_FULL|EDQUOT|disk is full/i.test(r));
    const advice = full
      ? `Free space on the disk of ${where}, or point FLYTE_TS_HOME (or \`cacheDir\`) at another folder.`
      : `Check that ${where} is writable.`;
    return knownSecrets.maskText(
      `the run's results were returned, but these could not be written (${[...reasons].join("; ")}): ` +
        `${parts.join(", ")}. ${advice}`,
    );
  }
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The losses of this process's runs. */
export const notRecorded: NotRecorded = new NotRecorded();
