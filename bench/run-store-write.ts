// runs.db writes: the CPU the run store's writer spends per task call (its action row and its
// attempt row), for a run of 10k calls and one of 100k, against better-sqlite3 appending the
// same finished rows into plain rowid tables, one transaction per batch, in the same process.
// The batches are the run store's own (its observer, fed each call's events), written with the
// writer thread's own function on a connection opened as the thread opens it; both files keep
// growing from trial to trial, so a later run writes into a file that already holds the earlier.
//
//   sequential: each call queued, attempted and finished within one batch (50 calls a batch)
//   fan-out:    every call queued first (1,000 a batch), then attempted and finished (50 a batch)
//
//   node --import tsx bench/run-store-write.ts
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { shortId } from "../src/internal/hash.js";
import type { RunEvent, RunObserver } from "../src/record/events.js";
import { openRunDatabase } from "../src/record/run-database.js";
import { RowQueue } from "../src/record/run-row-queue.js";
import { runRows } from "../src/record/run-rows.js";
import {
  type RowBatch,
  statementSql,
  withOutputs,
  writeRows,
} from "../src/record/run-store-writer.js";
import { callEvents } from "./call-events.js";
// @ts-expect-error: plain JavaScript.
import { median, report } from "./common.js";

const trials = Number(process.env.BENCH_TRIALS ?? 3);
const CALLS_PER_BATCH = 50;
const QUEUED_PER_BATCH = 1_000;

const home = mkdtempSync(join(tmpdir(), "flyte-ts-bench-runs-"));
const file = join(home, "runs.db");
const opened = openRunDatabase(file, "writer");
if (opened === undefined) throw new Error(`${file} did not open`);
const db = opened;

const floorDb = new Database(join(home, "floor.db"));
floorDb.pragma("journal_mode = WAL");
floorDb.pragma("synchronous = NORMAL");

/** The batches the run store writes for a run of `n` calls of shape `shape`. */
function batchesOf(run: string, n: number, shape: "sequential" | "fan-out"): RowBatch[] {
  const batches: RowBatch[] = [];
  const queue = new RowQueue(() => {});
  const observe: RunObserver = runRows(run, undefined, db, queue);
  const take = () => {
    const batch = queue.take();
    if (batch !== undefined) batches.push(batch);
  };
  observe({ type: "run-started", run, at: 0, task: "bench.main" });
  const calls = Array.from({ length: n }, (_, i) => callEvents(i, shortId(`${run}-${i}`)));
  if (shape === "fan-out") {
    for (let i = 0; i < n; i++) {
      observe(calls[i]?.queued as RunEvent);
      if ((i + 1) % QUEUED_PER_BATCH === 0) take();
    }
    take();
  }
  for (let i = 0; i < n; i++) {
    const call = calls[i] as { queued: RunEvent; ran: RunEvent[] };
    if (shape === "sequential") observe(call.queued);
    for (const event of call.ran) observe(event);
    if ((i + 1) % CALLS_PER_BATCH === 0) take();
  }
  take();
  return batches;
}

/** The process's CPU time in µs while `fn` runs (this bench's only busy thread). */
function cpuUs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

const floorTables = new Map<string, Database.Statement>();
/** Appends each batch's action and attempt rows, as queued, into plain rowid tables. */
function writeFloor(batches: readonly RowBatch[]): void {
  for (const { rows } of batches) {
    floorDb
      .transaction(() => {
        for (let k = 0; k < rows.length; k += 2) {
          const sql = statementSql[rows[k] as number] as string;
          const params = rows[k + 1] as unknown[];
          const table = /^INSERT OR REPLACE INTO (actions|attempts) /.exec(sql)?.[1];
          if (table === undefined) continue;
          const name = `${table}_${params.length}`;
          let insert = floorTables.get(name);
          if (insert === undefined) {
            const columns = params.map((_, c) => `c${c}`).join(", ");
            floorDb.exec(`CREATE TABLE IF NOT EXISTS ${name} (${columns})`);
            insert = floorDb.prepare(
              `INSERT INTO ${name} VALUES (${params.map(() => "?").join(", ")})`,
            );
            floorTables.set(name, insert);
          }
          insert.run(params);
        }
      })
      .immediate();
  }
}

const prepared = new Map();
let runs = 0;
for (const [n, shape] of [
  [10_000, "sequential"],
  [100_000, "sequential"],
  [100_000, "fan-out"],
] as const) {
  const engine: number[] = [];
  const floor: number[] = [];
  const wall: number[] = [];
  for (let t = 0; t < trials; t++) {
    const run = `bench-${++runs}`;
    // The floor appends the rows each call ends with: those of a sequential run.
    const floorBatches = batchesOf(`floor-${run}`, n, "sequential");
    // Outputs the controller leaves to the writer (primitives) get their bytes and seals before
    // the floor is timed: it only appends rows, while the engine's figure includes making them.
    for (const { rows } of floorBatches) {
      for (let k = 1; k < rows.length; k += 2) withOutputs(rows[k] as unknown[]);
    }
    floor.push(cpuUs(() => writeFloor(floorBatches)) / n);
    const batches = batchesOf(run, n, shape);
    const t0 = performance.now();
    engine.push(
      cpuUs(() => {
        for (const batch of batches) writeRows(db, batch, prepared);
      }) / n,
    );
    wall.push(((performance.now() - t0) * 1000) / n);
  }
  const e = median(engine);
  const f = median(floor);
  report(
    `runs.db write ${n / 1000}k ${shape}`,
    `writer CPU per call (2 rows); wall ${median(wall).toFixed(1)} µs`,
    e,
    f,
    "µs",
    e / f,
    "<= 25 µs per call",
  );
}
const wal = (f: string) => {
  try {
    return `${(statSync(`${f}-wal`).size / 2 ** 20).toFixed(1)} MB`;
  } catch {
    return "none";
  }
};
console.error(`# runs.db ${(statSync(file).size / 2 ** 20).toFixed(0)} MB, WAL ${wal(file)}`);
db.close();
floorDb.close();
rmSync(home, { recursive: true, force: true });
