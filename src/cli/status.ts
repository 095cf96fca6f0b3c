/**
 * `flyte-ts status`: like `ray status`, this host's resources — what flyte-ts tasks hold now, what
 * the host has free — and the live runs with what they are waiting for. Each process running a
 * run publishes what its scheduler holds and waits for every quarter second (`record/run-cancel.ts`).
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { freemem, hostname, loadavg } from "node:os";
import { join } from "node:path";
import type { Database } from "../cache/database.js";
import { type HostUsage, usageByRun } from "../record/run-cancel.js";
import { listRuns } from "../record/run-history.js";
import { ownerOf, ownerState, type RunOwner } from "../record/run-owner.js";
import { RunStore } from "../record/run-store.js";
import type { HostInventory } from "../scheduler/inventory.js";
import { formatBytes, Ledger } from "../scheduler/ledger.js";
import { detectHost } from "./devices.js";
import { readStoreArgs, table } from "./home.js";
import { formatDuration } from "./since.js";
import { ExitCode } from "./usage.js";

/** `flyte-ts status --help`. */
export const statusHelp = `Usage: flyte-ts status [--json] [--cache-dir <dir>]

Shows this host's resources and who holds them right now: CPUs, memory and devices that the
tasks of live runs were admitted with, what the host has free (its load and available memory),
and each live run with its running and queued actions and what its waiting attempts ask for.
Runs recorded as running whose process is gone are listed as died.

Options:
  --cache-dir <dir>  the .flyte folder   default: $FLYTE_TS_HOME, else ./.flyte
  --json             print JSON
`;

/** A live run as `status` shows it. */
interface LiveRun {
  readonly name: string;
  readonly task: string;
  readonly owner: RunOwner | undefined;
  readonly elapsedMs: number;
  readonly running: number;
  readonly queued: number;
  readonly waiting: readonly string[];
}

/** Memory the host could give now: `MemAvailable` from /proc/meminfo, else the OS's free memory. */
function availableMemory(): number {
  try {
    const match = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return freemem();
}

function deviceCount(host: HostInventory): number {
  let count = host.tpus.length;
  for (const gpu of host.gpus) count += gpu.migEnabled && gpu.mig.length > 0 ? gpu.mig.length : 1;
  return count;
}

function actionCounts(db: Database, run: string): { running: number; queued: number } {
  const rows = db
    .prepare<[string], { status: string; n: number }>(
      "SELECT status, count(*) AS n FROM actions WHERE run = ? AND status IN ('running', 'queued') GROUP BY status",
    )
    .all(run);
  return {
    running: rows.find((r) => r.status === "running")?.n ?? 0,
    queued: rows.find((r) => r.status === "queued")?.n ?? 0,
  };
}

/** `"3 × 1 x H100, 1 × 2 CPU"`: what waiting attempts ask for, counted. */
function describeWaiting(waiting: readonly string[]): string {
  if (waiting.length === 0) return "-";
  const counts = new Map<string, number>();
  for (const w of waiting) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].map(([what, n]) => `${n} × ${what}`).join(", ");
}

/** Runs `flyte-ts status`; resolves with the exit status. */
export async function statusCommand(argv: readonly string[]): Promise<ExitCode> {
  const args = readStoreArgs(argv, []);
  if (args.help) {
    process.stdout.write(statusHelp);
    return ExitCode.ok;
  }
  const host = await detectHost();
  const now = Date.now();
  const live: LiveRun[] = [];
  const died: { name: string; pid: number | undefined }[] = [];
  const byProcess = new Map<string, HostUsage>();
  if (existsSync(join(args.home, "runs.db"))) {
    const store = new RunStore(args.home);
    const db = store.database;
    try {
      if (db !== undefined) {
        const usages = usageByRun(db);
        for (const run of listRuns(db, { status: "running", limit: 10_000 })) {
          const owner = ownerOf(db, run.name);
          const state = owner === undefined ? "unknown" : ownerState(owner);
          if (state === "dead") {
            died.push({ name: run.name, pid: owner?.pid });
            continue;
          }
          const usage = usages.get(run.name);
          // One scheduler per process: runs of the same process share (and report) its holdings.
          if (usage !== undefined && owner !== undefined && state === "alive") {
            byProcess.set(String(owner.pid), usage);
          }
          live.push({
            name: run.name,
            task: run.task,
            owner,
            elapsedMs: now - run.startedAt,
            ...actionCounts(db, run.name),
            waiting: usage?.waiting ?? [],
          });
        }
      }
    } finally {
      store.close();
    }
  }
  const held = { cpuMilli: 0, memoryBytes: 0, devices: 0 };
  for (const usage of byProcess.values()) {
    held.cpuMilli += usage.cpuMilli;
    held.memoryBytes += usage.memoryBytes;
    held.devices += usage.devices;
  }
  const devices = deviceCount(host);
  const available = availableMemory();
  const load = loadavg();
  if (args.json) {
    const summary = {
      host: hostname(),
      cpus: { total: host.cpus, heldByTasks: held.cpuMilli / 1000, load },
      memory: {
        totalBytes: host.memoryBytes,
        heldByTasksBytes: held.memoryBytes,
        availableBytes: available,
      },
      devices: { total: devices, held: held.devices, free: devices - held.devices },
      liveRuns: live.map((r) => ({ ...r, pid: r.owner?.pid, owner: undefined })),
      diedRuns: died,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return ExitCode.ok;
  }
  const out: string[] = [];
  out.push(
    `Host     ${hostname()} · load ${load.map((l) => l.toFixed(2)).join(" ")} (1, 5, 15 min)`,
  );
  out.push(
    `CPUs     ${host.cpus} · held by tasks ${held.cpuMilli / 1000} · free to admit ${Math.max(0, host.cpus - held.cpuMilli / 1000)}`,
  );
  out.push(
    `Memory   ${formatBytes(host.memoryBytes)} · held by tasks ${formatBytes(held.memoryBytes)} · available on the host now ${formatBytes(available)}`,
  );
  out.push(
    devices === 0
      ? "Devices  none (no GPUs or TPUs found)"
      : `Devices  ${new Ledger(host).describeDevices()} · held ${held.devices} · free ${devices - held.devices}`,
  );
  out.push("");
  if (live.length === 0) out.push(`No live runs in ${args.home}.`);
  else {
    out.push(`Live runs (${live.length}):`);
    out.push(
      table(
        ["NAME", "TASK", "PROCESS", "ELAPSED", "RUNNING", "QUEUED", "WAITING FOR"],
        live.map((r) => [
          r.name,
          r.task,
          r.owner === undefined
            ? "?"
            : `${r.owner.pid}${r.owner.host === hostname() ? "" : `@${r.owner.host}`}`,
          formatDuration(r.elapsedMs),
          String(r.running),
          String(r.queued),
          describeWaiting(r.waiting),
        ]),
      ).trimEnd(),
    );
  }
  if (died.length > 0) {
    out.push("");
    out.push(
      `Died (recorded as running, process gone): ${died.map((d) => `${d.name}${d.pid === undefined ? "" : ` (pid ${d.pid})`}`).join(", ")}. ` +
        "Resume with `flyte-ts run --resume <run> …` or remove with `flyte-ts runs rm <run>`.",
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return ExitCode.ok;
}
