// examples/limits.ts through the CLI: a fan-out under a rate limit, a concurrency limit across
// runs and --max-action-concurrency, with the limits named in the run record.
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
  home = await mkdtemp(join(tmpdir(), "flyte-ts-example-limits-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

const degrees = (city: string) => [...city].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 30;

describe("examples/limits.ts", () => {
  test(
    "starts at most 5 lookups a second and 3 at once, naming the limits that held the rest",
    async ({ expect }) => {
      const cities = ["Oslo", "Lima", "Pune", "Kyiv", "Riga", "Doha", "Baku"];
      const env = { FLYTE_TS_HOME: home };
      const r = await runCli(
        [
          "run",
          "--name",
          "limits",
          "--max-action-concurrency",
          "4",
          "examples/limits.ts",
          "forecast",
          "--cities",
          JSON.stringify(cities),
        ],
        env,
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(cities.map((c) => `${c}: ${degrees(c)} °C`));
      const shown = await runCli(["runs", "show", "limits", "--json"], env);
      const record = JSON.parse(shown.stdout) as RunRecordData;
      const lookups = record.actions.filter((a) => a.task === "weather-api.lookup");
      expect(lookups).toHaveLength(7);
      const spans = lookups
        .map((a) => a.attempts[0])
        .map((t) => [t?.runningAt ?? 0, t?.endedAt ?? 0]);
      const starts = spans.map(([s]) => s as number).sort((a, b) => a - b);
      // The sixth start is a window after the first: the rate counts bodies' starts. (The record's
      // time is taken in the same tick as the gate's, hence a little slack.)
      for (let i = 0; i + 5 < starts.length; i++) {
        expect((starts[i + 5] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(950);
      }
      const edges = spans.flatMap(([s, e]) => [
        [s as number, 1],
        [e as number, -1],
      ]);
      edges.sort(
        (a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number),
      );
      let now = 0;
      let peak = 0;
      for (const [, d] of edges) {
        now += d as number;
        peak = Math.max(peak, now);
      }
      expect(peak).toBeLessThanOrEqual(3);
      const reasons = lookups.flatMap((a) => a.attempts.flatMap((t) => t.limitedBy ?? []));
      expect(reasons).toContain(
        "waiting for the rateLimit of environment `weather-api` (5 per 1.0s)",
      );
      // The report's bars say what held them (the page writes it into their tooltips).
      const report = await readFile(join(home, "runs", "limits", "report.html"), "utf8");
      expect(report).toContain(
        '"waiting for the rateLimit of environment `weather-api` (5 per 1.0s)"',
      );
    },
    testMs,
  );

  test(
    "runs as a program through flyte.main",
    async ({ expect }) => {
      const r = await runNode(
        ["--import", "tsx", "examples/limits.ts"],
        { FLYTE_TS_HOME: home },
        childMs,
      );
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toHaveLength(10);
      expect(r.stdout).toContain(`Oslo: ${degrees("Oslo")} °C`);
    },
    testMs,
  );

  test(
    "refuses --max-action-concurrency below 1 as a usage error",
    async ({ expect }) => {
      const r = await runCli(
        [
          "run",
          "--max-action-concurrency",
          "0",
          "examples/limits.ts",
          "forecast",
          "--cities",
          "[]",
        ],
        { FLYTE_TS_HOME: home },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        '--max-action-concurrency expects an integer of 1 or more, got "0"',
      );
    },
    testMs,
  );
});
