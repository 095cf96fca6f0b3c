import { describe, expect, it } from "vitest";
import { renderRunReport } from "../../../src/record/report.js";
import type { RunRecordData } from "../../../src/record/run-record.js";

const t0 = 1_700_000_000_000;
const timeout = {
  name: "TaskTimeoutError",
  code: "TaskTimeoutError",
  kind: "user",
  message: "ran past 1s",
} as const;
const boom = {
  name: "RuntimeUserError",
  code: "RangeError",
  kind: "user",
  message: "bad <input>",
  stack: "RuntimeUserError: bad <input>\n    at fit (train.ts:3:9)",
} as const;

const run: RunRecordData = {
  name: "demo",
  task: "train.main",
  status: "failed",
  startedAt: t0,
  endedAt: t0 + 1000,
  error: boom,
  actions: [
    {
      id: "a0",
      parent: undefined,
      task: "train.main",
      group: undefined,
      status: "failed",
      cacheHit: false,
      queuedAt: t0,
      endedAt: t0 + 1000,
      attempts: [{ attempt: 0, startedAt: t0, endedAt: t0 + 1000, error: boom }],
      error: boom,
    },
    {
      id: "b1",
      parent: "a0",
      task: "train.fit",
      group: "folds",
      status: "succeeded",
      cacheHit: false,
      queuedAt: t0 + 10,
      endedAt: t0 + 600,
      attempts: [
        { attempt: 0, startedAt: t0 + 10, endedAt: t0 + 200, error: timeout, devices: ["GPU-1"] },
        { attempt: 1, startedAt: t0 + 300, endedAt: t0 + 600, devices: ["GPU-1"] },
      ],
    },
    {
      id: "c2",
      parent: "a0",
      task: "train.fit",
      group: "folds",
      status: "succeeded",
      cacheHit: false,
      queuedAt: t0 + 10,
      endedAt: t0 + 500,
      attempts: [{ attempt: 0, startedAt: t0 + 10, endedAt: t0 + 500, lane: "thread-2" }],
    },
    {
      id: "d3",
      parent: "a0",
      task: "prep.load",
      group: undefined,
      status: "succeeded",
      cacheHit: true,
      queuedAt: t0 + 5,
      endedAt: t0 + 6,
      attempts: [],
    },
  ],
};

describe("the run report", () => {
  const html = renderRunReport(run, {
    tabs: { b1: [{ name: "main", html: "<b>fold 1</b>" }] },
    logs: [{ action: "b1", stream: "stderr", at: t0 + 20, text: "warning <x>\n" }],
  });

  it("draws one bar per attempt, coloured by outcome, with retries marked", () => {
    const bars = [
      ...html.matchAll(/<span class="bar ([a-z ]+)" data-action="(\w+)" data-attempt="(\d)"/g),
    ].map((m) => `${m[2]}#${m[3]} ${m[1]}`);
    expect(bars.sort()).toEqual([
      "a0#0 failed",
      "b1#0 timeout",
      "b1#1 succeeded retry",
      "c2#0 succeeded",
    ]);
  });

  it("puts attempts in the lane of their worker, else their devices, else their environment", () => {
    const lanes = [...html.matchAll(/<div class="lane-name" title="([^"]*)">/g)].map((m) => m[1]);
    expect(lanes).toEqual(["train", "GPU-1", "thread-2", "prep"]);
  });

  it("shows cache hits on the timeline and in the action tree", () => {
    expect(html).toMatch(/<span class="hit" data-action="d3"/);
    expect(html).toMatch(/<code>d3<\/code> <span class="facts">1ms · cache hit/);
  });

  it("lists errors with their stacks, escaped", () => {
    expect(html).toContain("<h2>Errors (2)</h2>");
    expect(html).toContain("bad &#60;input&#62;");
    expect(html).toContain("at fit (train.ts:3:9)");
    expect(html).not.toContain("bad <input>");
  });

  it("groups children by flyte.group in the tree", () => {
    expect(html).toContain("group <b>folds</b> ×2: 2 succeeded");
  });

  it("embeds report tabs in sandboxed frames and captured output", () => {
    expect(html).toContain('sandbox="allow-scripts" srcdoc="&#60;!doctype html&#62;');
    expect(html).toContain("&#60;b&#62;fold 1&#60;/b&#62;");
    expect(html).toContain('<span class="stderr">warning &#60;x&#62;\n</span>');
  });

  it("loads nothing from the network", () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
