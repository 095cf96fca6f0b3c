// `flyte-ts devices`, driven through the real bin in child processes.
import { beforeAll, describe, test } from "vitest";
import { ensureBuilt, runCli } from "../fixtures/cli/cli-process.js";

beforeAll(async () => {
  await ensureBuilt();
});

describe.concurrent("flyte-ts devices", () => {
  test("prints the simulated GPUs, MIG slices and TPU chips as a table", async ({ expect }) => {
    const r = await runCli(["devices"], {
      FLYTE_TS_FAKE_DEVICES: "H100:2;A100 80G:1,mig=3g.40gb*2;V5P:4;cpu=16",
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^CPUs {5}16 \(fake\)$/m);
    expect(r.stdout).toMatch(/^KIND +INDEX +NAME +MEMORY +MODE +ID$/m);
    expect(
      r.stdout.match(/^nvidia gpu +\d +NVIDIA H100 80GB HBM3 +80\.0 GiB +shareable +GPU-/gm),
    ).toHaveLength(2);
    expect(r.stdout).toContain(
      "A shareable GPU runs one whole-device task, or tasks asking for shares",
    );
    expect(r.stdout).toMatch(/^nvidia gpu +2 +NVIDIA A100-SXM4-80GB +80\.0 GiB +MIG +GPU-/m);
    expect(r.stdout.match(/^ {2}mig +2\.\d +3g\.40gb +40\.0 GiB +MIG-/gm)).toHaveLength(2);
    expect(r.stdout.match(/^tpu +\d +v5p/gm)).toHaveLength(4);
  });

  test("prints JSON for scripts with --json", async ({ expect }) => {
    const r = await runCli(["devices", "--json"], { FLYTE_TS_FAKE_DEVICES: "L4:1" });
    expect(r.code).toBe(0);
    const host = JSON.parse(r.stdout);
    expect(host.gpus).toHaveLength(1);
    expect(host.gpus[0]).toMatchObject({ vendor: "nvidia", index: 0, name: "NVIDIA L4" });
    expect(host.sources).toEqual(["fake"]);
    expect(host.cpus).toBeGreaterThan(0);
  });

  test("says so when there are no accelerators", async ({ expect }) => {
    const r = await runCli(["devices"], { PATH: "/nonexistent", FLYTE_TS_FAKE_DEVICES: "" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No GPUs or TPUs found.");
  });

  test("rejects an unknown option with a usage error", async ({ expect }) => {
    const r = await runCli(["devices", "--xml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option `--xml` for devices");
  });
});
