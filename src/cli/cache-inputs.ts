/**
 * Which inputs made a cache entry, for `flyte-ts cache ls` and `cache show`: the run store keeps
 * each cached action's cache key beside its inputs (`record/action-io.ts`).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { inputsOfCacheKey } from "../record/action-io.js";
import { RunStore } from "../record/run-store.js";

/** What made an entry: the run and action that wrote (or last read) it, its label and inputs. */
export interface EntryInputs {
  readonly run: string;
  readonly action: string;
  readonly label: string | undefined;
  readonly inputs: readonly { readonly name: string; readonly preview: string }[] | undefined;
}

/** Looks up the inputs of cache keys in `<home>/runs.db`; `close()` when done. */
export function entryInputs(home: string): {
  of(key: string): EntryInputs | undefined;
  close(): void;
} {
  if (!existsSync(join(home, "runs.db"))) return { of: () => undefined, close: () => {} };
  const store = new RunStore(home);
  const db = store.database;
  return {
    of(key) {
      if (db === undefined) return undefined;
      try {
        const found = inputsOfCacheKey(db, key);
        return found === undefined
          ? undefined
          : {
              run: found.run,
              action: found.action,
              label: found.io.label,
              inputs: found.io.inputs,
            };
      } catch {
        return undefined;
      }
    },
    close: () => store.close(),
  };
}
