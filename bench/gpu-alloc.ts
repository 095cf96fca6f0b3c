/**
 * bench gpu.alloc: 8 simulated GPUs, 64 concurrent tasks asking for 1–2 each, 10k tasks of which
 * some fail, per trial. Measures allocate+release per second through the local scheduler against
 * an in-process counting semaphore (the floor), interleaved trial by trial in this process, and
 * checks that no device leaked. Target: >= 100k allocate+release/s and 0 leaked devices.
 *
 * Run: node --import tsx bench/gpu-alloc.ts [trials=7] [tasks=10000]
 */
import { setMaxListeners } from "node:events";
import { Resources } from "../src/api/resources.js";
import { parseFakeDevices } from "../src/scheduler/fake-devices.js";
import { LocalScheduler } from "../src/scheduler/local-scheduler.js";

const trials = Number(process.argv[2] ?? 7);
const tasks = Number(process.argv[3] ?? 10_000);
const concurrency = 64;
const gpus = 8;

/** The floor: a FIFO counting semaphore over 8 permits. */
class Semaphore {
  #free: number;
  readonly #queue: { n: number; wake: () => void }[] = [];
  constructor(permits: number) {
    this.#free = permits;
  }
  acquire(n: number): Promise<void> {
    if (this.#queue.length === 0 && this.#free >= n) {
      this.#free -= n;
      return Promise.resolve();
    }
    return new Promise((wake) => this.#queue.push({ n, wake }));
  }
  release(n: number): void {
    this.#free += n;
    while (this.#queue.length > 0 && this.#free >= (this.#queue[0]?.n ?? 0)) {
      const next = this.#queue.shift()!;
      this.#free -= next.n;
      next.wake();
    }
  }
  get free(): number {
    return this.#free;
  }
}

/** A deterministic stream of 1s and 2s and failure flags. */
function plan(count: number): { size: 1 | 2; fails: boolean }[] {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  return Array.from({ length: count }, () => ({ size: next() < 0.5 ? 1 : 2, fails: next() < 0.2 }));
}

async function drive(
  work: { size: 1 | 2; fails: boolean }[],
  task: (item: { size: 1 | 2; fails: boolean }) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < work.length) {
        const item = work[next++]!;
        await task(item).catch(() => {});
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function floorTrial(work: { size: 1 | 2; fails: boolean }[]): Promise<[number, number]> {
  const semaphore = new Semaphore(gpus);
  const seconds = await drive(work, async ({ size, fails }) => {
    await semaphore.acquire(size);
    try {
      await Promise.resolve();
      if (fails) throw new Error("task failed");
    } finally {
      semaphore.release(size);
    }
  });
  return [work.length / seconds, gpus - semaphore.free];
}

const fake = parseFakeDevices(`H100:${gpus}`);
const one = new Resources({ gpu: "H100:1" });
const two = new Resources({ gpu: 2 });
const signal = new AbortController().signal;
// Every queued waiter listens to this one signal (in a run, each attempt has its own).
setMaxListeners(0, signal);

async function schedulerTrial(work: { size: 1 | 2; fails: boolean }[]): Promise<[number, number]> {
  const scheduler = new LocalScheduler({
    inventory: {
      cpus: 64,
      cpuSource: "fake",
      memoryBytes: 2 ** 40,
      memorySource: "fake",
      gpus: fake.gpus,
      tpus: [],
      sources: ["fake"],
      warnings: [],
    },
  });
  const held = new Set<string>();
  let overlaps = 0;
  const seconds = await drive(work, async ({ size, fails }) => {
    const lease = await scheduler.admit({
      taskName: "bench.gpu",
      resources: size === 1 ? one : two,
      maxQueuedTimeMs: undefined,
      signal,
    });
    try {
      for (const d of lease.devices) {
        if (held.has(d.id)) overlaps++;
        held.add(d.id);
      }
      await Promise.resolve();
      for (const d of lease.devices) held.delete(d.id);
      if (fails) throw new Error("task failed");
    } finally {
      lease.release();
    }
  });
  if (overlaps > 0) throw new Error(`${overlaps} device overlaps: the scheduler double-assigned`);
  return [work.length / seconds, scheduler.usage().devices];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const work = plan(tasks);
// Warm up both paths so the JIT is not measured.
await floorTrial(work);
await schedulerTrial(work);
const floor: number[] = [];
const ours: number[] = [];
let leaked = 0;
for (let t = 0; t < trials; t++) {
  const [f, floorLeak] = await floorTrial(work);
  const [s, schedulerLeak] = await schedulerTrial(work);
  floor.push(f);
  ours.push(s);
  leaked += floorLeak + schedulerLeak;
}
const fmt = (n: number) => `${Math.round(n / 1000)}k/s`;
console.log(
  `gpu.alloc: ${gpus} fake GPUs, ${concurrency} concurrent, ${tasks} tasks x ${trials} trials, 20% failing`,
);
console.log("| path | median alloc+release/s | min | max |");
console.log("|---|---|---|---|");
console.log(
  `| floor: counting semaphore | ${fmt(median(floor))} | ${fmt(Math.min(...floor))} | ${fmt(Math.max(...floor))} |`,
);
console.log(
  `| LocalScheduler.admit/release | ${fmt(median(ours))} | ${fmt(Math.min(...ours))} | ${fmt(Math.max(...ours))} |`,
);
console.log(
  `ratio scheduler/floor: ${(median(ours) / median(floor)).toFixed(2)}x; target >= 100k/s: ${median(ours) >= 100_000 ? "met" : "NOT met"}; leaked devices: ${leaked}`,
);
