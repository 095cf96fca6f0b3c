/**
 * cache.write: (1) single durable writes — a miss stored, awaited one at a time — against
 * better-sqlite3 autocommit inserts; (2) a 10k fan-out's results written together — our
 * batched writes — against 10k inserts in one transaction. Same process, interleaved.
 * Run: `node --import tsx bench/cache-write.ts`.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import Database from "better-sqlite3";
import { SqliteCacheStore } from "../src/cache/sqlite-cache-store.js";
import { interleave, perOpUs, perOpUsAsync, report } from "./cache-harness.js";

const home = mkdtempSync(join(tmpdir(), "flyte-ts-bench-write-"));
const store = new SqliteCacheStore(home);
const db = new Database(join(home, "floor.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID");
const put = db.prepare("INSERT OR REPLACE INTO kv VALUES (?, ?)");
const key = () => randomBytes(32).toString("hex");
const output = (i: number) => ({ loss: i / 1000, step: i, tags: ["a", "b"] });

const single = await interleave(
  7,
  () => perOpUs(2_000, (i) => put.run(key(), serialize(output(i)))),
  () => perOpUsAsync(2_000, (i) => store.set(key(), output(i), "bench.single")),
);
report("cache.write single (awaited each)", "µs", single, ">= 0.5x autocommit speed");

const FANOUT = 10_000;
const rowsPerSecond = (us: number) => 1e6 / us;
const batched = await interleave(
  7,
  () => {
    const keys = Array.from({ length: FANOUT }, key);
    const start = process.hrtime.bigint();
    db.transaction(() => {
      for (let i = 0; i < FANOUT; i++) put.run(keys[i], serialize(output(i)));
    })();
    return rowsPerSecond(Number(process.hrtime.bigint() - start) / 1_000 / FANOUT);
  },
  async () => {
    const keys = Array.from({ length: FANOUT }, key);
    const start = process.hrtime.bigint();
    await Promise.all(keys.map((k, i) => store.set(k, output(i), "bench.fanout")));
    return rowsPerSecond(Number(process.hrtime.bigint() - start) / 1_000 / FANOUT);
  },
);
report("cache.write 10k fan-out (batched)", "rows/s", batched, ">= 100k rows/s");
await store.close();
db.close();
