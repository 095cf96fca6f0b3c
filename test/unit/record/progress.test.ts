import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../../src/record/events.js";
import { headerLine, Progress, summaryLine, treeLines } from "../../../src/record/progress.js";
import { rootEvents, running } from "../../fixtures/run-events.js";

function fanOut(total: number): Progress {
  const p = new Progress();
  const events: RunEvent[] = rootEvents("demo.main", 1);
  for (let i = 0; i < total; i++) {
    events.push({
      type: "action-queued",
      action: `s${i}`,
      parent: "a0",
      task: "demo.square",
      group: "square",
      at: 2,
    });
  }
  for (const e of events) p.observe(e);
  return p;
}

describe("the live view's tree", () => {
  it("collapses a large group into one line of counts", () => {
    const p = fanOut(1000);
    for (let i = 0; i < 812; i++) {
      p.observe({ type: "attempt-started", action: `s${i}`, attempt: 0, at: 3 });
      p.observe(running(`s${i}`, 0, 3));
      p.observe({ type: "action-finished", action: `s${i}`, status: "succeeded", at: 4 });
    }
    for (let i = 812; i < 992; i++)
      p.observe({ type: "attempt-started", action: `s${i}`, attempt: 0, at: 3 });
    // Of those attempts, two bodies run (a pool of two); the rest wait for a worker.
    p.observe(running("s812", 0, 5));
    p.observe(running("s813", 0, 5));
    for (let i = 992; i < 995; i++) {
      p.observe({ type: "action-cache-hit", action: `s${i}`, at: 3 });
      p.observe({ type: "action-finished", action: `s${i}`, status: "succeeded", at: 3 });
    }
    p.observe({ type: "attempt-started", action: "s995", attempt: 0, at: 3 });
    p.observe({
      type: "attempt-finished",
      action: "s995",
      attempt: 0,
      at: 4,
      error: { name: "Error", code: "Error", kind: "user", message: "flaky" },
    });
    expect(treeLines(p, 10)).toEqual([
      "▶ main a0  9ms",
      "  ▶ square ×1000: 812 done · 2 running · 178 waiting · 4 queued · 3 cached · 1 retrying",
    ]);
  });

  it("lists a small group's actions with marks, durations, attempts and devices", () => {
    const p = fanOut(2);
    p.observe({ type: "attempt-started", action: "s0", attempt: 0, at: 3 });
    p.observe({
      type: "attempt-phase",
      action: "s0",
      attempt: 0,
      at: 3,
      phase: "admitted",
      devices: ["GPU-0"],
    });
    p.observe(running("s0", 0, 3));
    p.observe({
      type: "attempt-finished",
      action: "s0",
      attempt: 0,
      at: 5,
      error: { name: "E", code: "E", kind: "user", message: "oops" },
    });
    p.observe({ type: "attempt-started", action: "s0", attempt: 1, at: 6 });
    p.observe(running("s0", 1, 7));
    p.observe({ type: "attempt-finished", action: "s0", attempt: 1, at: 9 });
    p.observe({ type: "action-finished", action: "s0", status: "succeeded", at: 9 });
    expect(treeLines(p, 10)).toEqual([
      "▶ main a0  9ms",
      "  ▾ square",
      "    ✔ square s0  2ms · 2 attempts · on GPU-0",
      "    · square s1",
    ]);
  });

  it("estimates what is left from the pace so far, and sums up the run at the end", () => {
    const p = fanOut(3);
    p.observe({ type: "action-finished", action: "s0", status: "succeeded", at: 1000 });
    expect(headerLine(p, 1000)).toBe("run r · 1.0s · 1/4 actions done · ~3.0s left");
    // Calls the controller has not issued yet count in what is left, not as actions.
    p.observe({ type: "calls-waiting", count: 4, at: 1000 });
    expect(headerLine(p, 1000)).toBe(
      "run r · 1.0s · 1/4 actions done · 4 more calls not issued yet · ~7.0s left",
    );
    p.observe({ type: "calls-waiting", count: 0, at: 1000 });
    p.observe({ type: "action-cache-hit", action: "s1", at: 1000 });
    p.observe({ type: "action-finished", action: "s1", status: "succeeded", at: 1000 });
    p.observe({ type: "action-finished", action: "s2", status: "failed", at: 1000 });
    p.observe({ type: "action-finished", action: "a0", status: "failed", at: 1500 });
    p.observe({ type: "run-finished", run: "r", status: "failed", at: 1500 });
    expect(summaryLine(p, "/runs/r/report.html")).toBe(
      "✘ run r failed in 1.5s · 4 actions: 1 done · 1 cached · 2 failed · cache-hit rate 25% · report: /runs/r/report.html",
    );
  });
});

describe("the live view's summary and errors", () => {
  it("counts resumed steps as done, not as cache hits, and says '1 action'", () => {
    const p = fanOut(1);
    p.observe({ type: "action-cache-hit", action: "s0", at: 3, source: "resume" });
    p.observe({ type: "action-finished", action: "s0", status: "succeeded", at: 3 });
    p.observe({ type: "action-finished", action: "a0", status: "succeeded", at: 4 });
    p.observe({ type: "run-finished", run: "r", status: "succeeded", at: 4 });
    expect(summaryLine(p, undefined)).toMatch(
      /· 2 actions: 2 done \(1 resumed\) · cache-hit rate 0%$/,
    );
    const single = new Progress();
    for (const e of rootEvents()) single.observe(e);
    single.observe({ type: "run-finished", run: "r", status: "succeeded", at: 4 });
    expect(summaryLine(single, undefined)).toMatch(/· 1 action: /);
  });

  it("shows a child's error once, where it started, and points its parents there", () => {
    const p = fanOut(1);
    const error = {
      name: "RuntimeUserError",
      code: "SecretNotFoundError",
      kind: "user",
      message: "needs the secret X",
    } as const;
    p.observe({ type: "action-finished", action: "s0", status: "failed", at: 3, error });
    p.observe({ type: "attempt-finished", action: "a0", attempt: 0, at: 4, error });
    p.observe({ type: "action-finished", action: "a0", status: "failed", at: 4, error });
    const text = treeLines(p, 5).join("\n");
    expect(text.match(/needs the secret X/g)).toHaveLength(1);
    expect(text).toMatch(/✘ main a0 .*error from square s0/);
  });
});
