import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { RunStore } from "../../../src/record/run-store.js";
import { claimDrawnName } from "../../../src/run/run-claim.js";

const env = new flyte.TaskEnvironment({ name: "claims", runtime: "inline" });
const one = env.task(async function one() {
  return 1;
});

describe("a generated run name", () => {
  it("is drawn again when another run took it, instead of failing the run", async () => {
    const home = mkdtempSync(join(tmpdir(), "flyte-ts-claim-"));
    await flyte.withRunContext({ cacheDir: home, name: "20261201-0556-fb616" }).run(one);
    const store = new RunStore(home);
    const drawn = ["20261201-0556-fb616", "20261201-0556-fb616", "20261201-0556-0a1b2"];
    const claim = { runStore: store, home, resuming: false, replace: false, now: Date.now() };
    expect(claimDrawnName(claim, () => drawn.shift() as string)).toBe("20261201-0556-0a1b2");
    expect(drawn).toEqual([]);
    store.close();
  });

  it("gives up after 8 draws with the run store's error", async () => {
    const home = mkdtempSync(join(tmpdir(), "flyte-ts-claim-"));
    await flyte.withRunContext({ cacheDir: home, name: "taken" }).run(one);
    const store = new RunStore(home);
    let draws = 0;
    const claim = { runStore: store, home, resuming: false, replace: false, now: Date.now() };
    expect(() =>
      claimDrawnName(claim, () => {
        draws++;
        return "taken";
      }),
    ).toThrow(/already stored/);
    expect(draws).toBe(8);
    store.close();
  });
});
