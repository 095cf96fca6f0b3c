/**
 * cache.hit: a call of a cached task whose result exists — key + lookup + decode — against the
 * floor of better-sqlite3's prepared get + v8 deserialize + sha256 key of the same inputs, in
 * the same process, interleaved. Also the whole sub-action call inside a run, for reference.
 * Run: `node --import tsx bench/cache-hit.ts`.
 */
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import Database from "better-sqlite3";
import { cacheKey } from "../src/cache/cache-key.js";
import { hashInputs } from "../src/cache/inputs.js";
import { SqliteCacheStore } from "../src/cache/sqlite-cache-store.js";
import * as flyte from "../src/index.js";
import { interleave, perOpUs, report } from "./cache-harness.js";

const home = mkdtempSync(join(tmpdir(), "flyte-ts-bench-hit-"));
// Inline: a hit never reaches a worker, and no worker must import this module (it runs at top level).
const env = new flyte.TaskEnvironment({ name: "bench", cache: "auto", runtime: "inline" });
const train = env.task(async function train(config: {
  lr: number;
  layers: number[];
  name: string;
}) {
  return { loss: config.lr * 2, accuracy: 0.97, history: [0.5, 0.3, 0.2] };
});
const output = { loss: 0.002, accuracy: 0.97, history: [0.5, 0.3, 0.2] };
const inputs = (i: number) => [{ lr: 0.001, layers: [64, 32, i % 100], name: "resnet" }] as const;
const N = 20_000;
const KEYS = 100;

// Ours: the store the engine uses, filled with KEYS entries.
const store = new SqliteCacheStore(home);
for (let i = 0; i < KEYS; i++) {
  const args = inputs(i);
  await store.set(cacheKey(train, args, hashInputs(train, args)), output, train.name);
}

// The floor: a bare key-value table in WAL mode with the same rows.
const db = new Database(join(home, "floor.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID");
const floorKey = (i: number) =>
  createHash("sha256")
    .update(JSON.stringify(inputs(i)))
    .digest("hex");
const put = db.prepare("INSERT OR REPLACE INTO kv VALUES (?, ?)");
for (let i = 0; i < KEYS; i++) put.run(floorKey(i), serialize(output));
const get = db.prepare<[string], { value: Buffer }>("SELECT value FROM kv WHERE key = ?");
const floorHit = (i: number) =>
  deserialize((get.get(floorKey(i % KEYS)) as { value: Buffer }).value);

let sink: unknown;
const hit = await interleave(
  9,
  () => perOpUs(N, (i) => (sink = floorHit(i))),
  () =>
    perOpUs(N, (i) => {
      const args = inputs(i % KEYS);
      sink = store.getNow(cacheKey(train, args, hashInputs(train, args)))?.value;
    }),
);
report("cache.hit (key + lookup + decode)", "µs", hit, "<= 3x floor");

// The whole call inside a run: action id, events, run-store rows, cache hit.
const parent = env.task({ cache: "disable" }, async function parent(n: number) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++)
    sink = await train({ ...inputs(i % KEYS)[0], layers: [64, 32, i % 100] });
  return Number(process.hrtime.bigint() - start) / 1_000 / n;
});
const call = await interleave(
  5,
  () => perOpUs(5_000, (i) => (sink = floorHit(i))),
  async () => (await flyte.withRunContext({ cacheDir: home }).run(parent, 5_000)).outputs(),
);
report("cache.hit (sub-action call in a run)", "µs", call, "reference");
void sink;
