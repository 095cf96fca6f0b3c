// examples/gpus.ts on simulated GPUs, and its refusal on a host without them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { ensureBuilt, runCli, runNode } from "../fixtures/cli/cli-process.js";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-example-gpus-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe.concurrent("examples/gpus.ts", () => {
  test("runs eight trainings over four simulated H100s, each on one of them", async ({
    expect,
  }) => {
    const r = await runNode(["--import", "tsx", "examples/gpus.ts"], {
      FLYTE_TS_HOME: home,
      FLYTE_TS_FAKE_DEVICES: "H100:4",
    });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(8);
    for (const [seed, line] of lines.entries()) {
      expect(line).toMatch(new RegExp(`^seed ${seed} on GPU [0-3]$`));
    }
  });

  test("fails at once through the CLI, naming what is missing, on a host without GPUs", async ({
    expect,
  }) => {
    const r = await runCli(["run", "examples/gpus.ts", "sweep", "--n", "2"], {
      FLYTE_TS_HOME: home,
      FLYTE_TS_FAKE_DEVICES: "L4:1",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "InsufficientResourcesError: Task `gpus.train` asked for 1 x H100 but this host has none (1 x NVIDIA L4).",
    );
  });
});
