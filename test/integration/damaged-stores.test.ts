// Damaged stores never return a wrong value: every stored value is verified when read (its row's
// key, its seal, its content hash), and a mismatch is a miss — the task runs again — with one
// warning naming the file. Real SQLite files, damaged the way disks and people damage them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import fc from "fast-check";
import * as flyte from "flyte-ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SqliteCacheStore } from "../../src/cache/sqlite-cache-store.js";
import { RunStore } from "../../src/record/run-store.js";
import { RunContext } from "../../src/run/run.js";

const env = new flyte.TaskEnvironment({ name: "damaged", runtime: "inline", cache: "auto" });
const childValue = (i: number) => ({ i, square: i * i, label: `${"v".repeat(i % 7)}${i}` });
const child = env.task(async function child(i: number) {
  return childValue(i);
});
let mains = 0;
const main = env.task({ cache: "disable" }, async function main(n: number) {
  mains++;
  return Promise.all(Array.from({ length: n }, (_, i) => child(i)));
});
const n = 40;
const expected = Array.from({ length: n }, (_, i) => childValue(i));

let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.startsWith("flyte-ts:")) {
      warnings.push(text);
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  });
});
afterEach(() => vi.restoreAllMocks());

/** One `.flyte` folder with its own store handles, closed (checkpointed) between runs. */
class Home {
  readonly dir = mkdtempSync(join(tmpdir(), "flyte-ts-damaged-"));
  #cache = new SqliteCacheStore(this.dir);
  #runs = new RunStore(this.dir);

  run(options: { name?: string; resume?: string }) {
    return new RunContext(
      { cacheDir: this.dir, echoLogs: false, ...options },
      { cache: this.#cache, runStore: this.#runs },
    ).run(main, n);
  }

  async close(): Promise<void> {
    this.#runs.close();
    await this.#cache.close();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Flips bytes of `file` (past its 100-byte header) at the given fractions of its length. */
function flip(file: string, at: readonly (readonly [number, number])[]): void {
  const bytes = readFileSync(file);
  for (const [where, mask] of at) {
    const i = 100 + Math.floor(where * (bytes.length - 100));
    bytes[i] = (bytes[i] as number) ^ mask;
  }
  writeFileSync(file, bytes);
}

const flips = fc.array(
  fc.tuple(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.integer({ min: 1, max: 255 }),
  ),
  {
    minLength: 1,
    maxLength: 8,
  },
);

describe("damaged stores", () => {
  it("never return a wrong value when random bytes of runs.db are flipped (correct or recomputed)", async () => {
    await fc.assert(
      fc.asyncProperty(flips, async (at) => {
        const home = new Home();
        try {
          await home.run({ name: "r" });
          await home.close();
          flip(join(home.dir, "runs.db"), at);
          let outputs: unknown;
          try {
            outputs = await (await home.run({ resume: "r" })).outputs();
          } catch (error) {
            // A run record too damaged to check is refused, never replayed.
            expect((error as { code?: string }).code).toMatch(/RunNotFound|RunRecordDamaged/);
            return;
          }
          expect(outputs).toEqual(expected);
        } finally {
          await home.close();
          home.remove();
        }
      }),
      { numRuns: 40 },
    );
  });

  it("never return a wrong value when random bytes of cache.db are flipped (correct or recomputed)", async () => {
    await fc.assert(
      fc.asyncProperty(flips, async (at) => {
        const home = new Home();
        try {
          await home.run({ name: "first" });
          await home.close();
          flip(join(home.dir, "cache.db"), at);
          expect(await (await home.run({ name: "second" })).outputs()).toEqual(expected);
        } finally {
          await home.close();
          home.remove();
        }
      }),
      { numRuns: 40 },
    );
  });

  it("recomputes every output of runs.db whose bytes changed, with one warning naming the file", async () => {
    const home = new Home();
    await home.run({ name: "r" });
    await home.close();
    const file = join(home.dir, "runs.db");
    const bytes = readFileSync(file);
    // Change one digit inside every stored "vvvvvv<i>" label: plausible, wrong values.
    for (let at = bytes.indexOf("vvvvvv"); at >= 0; at = bytes.indexOf("vvvvvv", at + 1)) {
      bytes[at + 6] = (bytes[at + 6] as number) ^ 1;
    }
    writeFileSync(file, bytes);
    mains = 0;
    expect(await (await home.run({ resume: "r" })).outputs()).toEqual(expected);
    expect(mains).toBe(1);
    const named = warnings.filter((w) => w.includes(file));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/damaged value.*run again/);
    await home.close();
    home.remove();
  });

  it("treats a cache entry whose key cell holds another entry's key as a miss, never that entry's value", async () => {
    const home = new Home();
    await home.run({ name: "first" });
    await home.close();
    const file = join(home.dir, "cache.db");
    const db = new Database(file, { readonly: true });
    const keys = (db.prepare("SELECT key FROM entries").all() as { key: string }[]).map(
      (r) => r.key,
    );
    db.close();
    const bytes = readFileSync(file);
    // Overwrite three keys with their neighbours' keys: the B-tree now holds duplicates.
    for (let k = 0; k < 3; k++) {
      const at = bytes.indexOf(keys[k] as string);
      if (at >= 0) bytes.write(keys[k + 1] as string, at, "latin1");
    }
    writeFileSync(file, bytes);
    expect(await (await home.run({ name: "second" })).outputs()).toEqual(expected);
    expect(warnings.filter((w) => w.includes(file)).length).toBeLessThanOrEqual(1);
    await home.close();
    home.remove();
  });
});
