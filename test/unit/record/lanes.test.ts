import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import type { ExecuteRequest, Executor } from "../../../src/execution/executor.js";
import { InlineExecutor } from "../../../src/execution/inline.js";
import type { RunEvent } from "../../../src/record/events.js";
import { RunContext } from "../../../src/run/run.js";
import { oneGpuScheduler } from "../../fixtures/gpu-lease.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-lanes-"));
const env = new TaskEnvironment({ name: "lanes", runtime: "inline" });
const leaf = env.task(async function leaf(x: number) {
  return x + 1;
});
const root = env.task(async function root() {
  return Promise.all([leaf(1), leaf(2)]);
});

/** Runs inline but says each attempt ran on a numbered worker, as the pools do. */
class LabelledExecutor implements Executor {
  readonly #inline = new InlineExecutor();
  #next = 0;
  execute(request: ExecuteRequest): Promise<unknown> {
    request.placed?.(`worker-${this.#next++}`);
    return this.#inline.execute(request);
  }
  close(): Promise<void> {
    return this.#inline.close();
  }
}

describe("attempt lanes and devices", () => {
  it("records the worker an executor placed each attempt on, and the lease's devices", async () => {
    const events: RunEvent[] = [];
    const executor = new LabelledExecutor();
    const context = new RunContext(
      { cacheDir, name: "lanes", onEvent: (e) => events.push(e) },
      {
        executorFor: () => executor,
        scheduler: oneGpuScheduler(3),
      },
    );
    const run = await context.run(root);
    const phases = events.filter((e) => e.type === "attempt-phase");
    expect(phases.filter((e) => e.phase === "placed").map((e) => e.lane)).toEqual([
      "worker-0",
      "worker-1",
      "worker-2",
    ]);
    expect(phases.filter((e) => e.phase === "admitted").map((e) => e.devices)).toEqual([
      ["gpu3"],
      ["gpu3"],
      ["gpu3"],
    ]);
    const record = { actions: run.actions };
    expect(record.actions.map((a) => a.attempts[0]?.lane).sort()).toEqual([
      "worker-0",
      "worker-1",
      "worker-2",
    ]);
    const html = readFileSync(run.reportPath, "utf8");
    // A GPU runs one attempt at a time: its attempts share the device's lane.
    expect(html).toContain('"name":"gpu3"');
  });
});
