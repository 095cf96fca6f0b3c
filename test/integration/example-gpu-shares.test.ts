// examples/gpu-shares.ts on two simulated H100s: shares of 0.5 run at most two per device at
// once, sharers see the same CUDA_VISIBLE_DEVICES, and the whole-device task never overlaps them.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import type { RunRecordData } from "../../src/record/run-record.js";
import { binPath, ensureBuilt, runNode } from "../fixtures/cli/cli-process.js";

let home: string;

// Hang guards, generous: these runs take seconds, but a loaded 2-core host stretches them.
const childMs = 150_000;
const testMs = 320_000;
const runCli = (args: readonly string[], env: Record<string, string>) =>
  runNode([binPath, ...args], env, childMs);

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-example-gpu-shares-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

interface Span {
  readonly device: string;
  readonly share: boolean;
  readonly from: number;
  readonly to: number;
}

/** The most spans of `spans` that overlap at one moment. */
function peak(spans: readonly Span[]): number {
  const edges = spans.flatMap((s) => [
    { at: s.from, d: 1 },
    { at: s.to, d: -1 },
  ]);
  // An end at the same moment as a start frees its share first.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

describe("examples/gpu-shares.ts", () => {
  test(
    "runs 0.5 shares two per simulated H100 and the whole-device task alone on its device",
    async ({ expect }) => {
      const env = { FLYTE_TS_HOME: home, FLYTE_TS_FAKE_DEVICES: "H100:2" };
      const r = await runCli(
        ["run", "--name", "shares", "examples/gpu-shares.ts", "sweep", "--n", "6"],
        env,
      );
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.code).toBe(0);
      const lines = JSON.parse(r.stdout) as string[];
      expect(lines).toHaveLength(7);
      const visibleOf = new Map<string, string>();
      for (const line of lines.slice(0, 6)) {
        const m = /^eval \d on GPU (\d) \(share 0\.5\) (GPU-\S+)$/.exec(line);
        expect(m, line).not.toBeNull();
        const [, gpu = "", visible = ""] = m ?? [];
        // Every sharer of one device sees the same CUDA_VISIBLE_DEVICES: that device's uuid.
        expect(visibleOf.get(gpu) ?? visible).toBe(visible);
        visibleOf.set(gpu, visible);
      }
      expect(lines[6]).toMatch(/^train on GPU \d \(whole\) GPU-\S+$/);

      const shown = await runCli(["runs", "show", "shares", "--json"], env);
      const record = JSON.parse(shown.stdout) as RunRecordData;
      const spans: Span[] = [];
      for (const action of record.actions) {
        for (const attempt of action.attempts) {
          const device = attempt.devices?.[0];
          if (device === undefined) continue;
          expect(attempt.admittedAt).toBeDefined();
          spans.push({
            device: device.replace(/@.*$/, ""),
            share: device.includes("@"),
            // Held from admission until the attempt's end.
            from: attempt.admittedAt ?? 0,
            to: attempt.endedAt ?? Number.POSITIVE_INFINITY,
          });
        }
      }
      expect(spans.filter((s) => s.share)).toHaveLength(6);
      for (const device of ["gpu0", "gpu1"]) {
        const shares = spans.filter((s) => s.device === device && s.share);
        expect(peak(shares)).toBeLessThanOrEqual(2);
        const whole = spans.find((s) => s.device === device && !s.share);
        if (whole === undefined) continue;
        for (const share of shares) {
          expect(
            share.to <= whole.from || share.from >= whole.to,
            `${device} shared while held whole`,
          ).toBe(true);
        }
      }
      // The report draws sharers in their device's lane, each bar saying its share.
      const report = await readFile(join(home, "runs", "shares", "report.html"), "utf8");
      expect(report).toContain("(0.5 of the GPU, shared)");
    },
    testMs,
  );
});
