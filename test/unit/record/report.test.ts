import { describe, expect, it } from "vitest";
import { formatMs } from "../../../src/internal/time.js";
import { renderRunReport, renderRunReportSliced } from "../../../src/record/report.js";
import { barDetail, timelineData } from "../../../src/record/report-timeline.js";
import {
  type ActionRecord,
  lastAttemptTimes,
  type RunRecordData,
} from "../../../src/record/run-record.js";

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
        {
          attempt: 0,
          startedAt: t0 + 10,
          runningAt: t0 + 10,
          endedAt: t0 + 200,
          error: timeout,
          devices: ["GPU-1"],
        },
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

  const timeline = timelineData(run);
  const embedded = html.match(
    /<script type="application\/json" id="timeline-data">(.*?)<\/script>/,
  )?.[1];

  it("lays out one bar per attempt, by outcome, with retries numbered", () => {
    const bars = timeline.bars
      .filter((b) => b[4] !== "hit")
      .map(([, , , , kind, attempt, action]) => `${action}#${attempt} ${kind}`);
    expect(bars.sort()).toEqual([
      "a0#0 failed",
      "b1#0 timeout",
      "b1#1 succeeded",
      "c2#0 succeeded",
    ]);
    expect(JSON.parse(embedded ?? "null")).toEqual(JSON.parse(JSON.stringify(timeline)));
  });

  it("puts attempts in the lane of their worker, else their devices, else their environment", () => {
    expect(timeline.lanes.map((l) => l.name)).toEqual(["train", "GPU-1", "thread-2", "prep"]);
    const laneOf = (action: string) =>
      timeline.lanes[timeline.bars.find((b) => b[6] === action)?.[0] ?? -1]?.name;
    expect([laneOf("a0"), laneOf("b1"), laneOf("c2"), laneOf("d3")]).toEqual([
      "train",
      "GPU-1",
      "thread-2",
      "prep",
    ]);
  });

  it("keeps sequential attempts in one row and stacks concurrent ones", () => {
    expect(timeline.bars.filter((b) => b[0] === 1).map((b) => b[1])).toEqual([0, 0]);
    const b1 = timeline.bars.find((b) => b[6] === "b1" && b[5] === 0);
    expect(b1 && barDetail(timeline, b1, formatMs)).toBe(
      "waited 0ms, ran 190ms\non GPU-1\nTaskTimeoutError: ran past 1s",
    );
    const c2 = run.actions[2]!;
    const overlapping = timelineData({
      ...run,
      actions: [
        c2,
        { ...c2, id: "e4" },
        {
          ...c2,
          id: "f5",
          attempts: [{ ...c2.attempts[0]!, startedAt: t0 + 600, endedAt: t0 + 700 }],
        },
      ],
    });
    expect(overlapping.bars.map((b) => `${b[6]}:${b[1]}`)).toEqual(["c2:0", "e4:1", "f5:0"]);
    expect(overlapping.lanes).toEqual([{ name: "thread-2", rows: 2, rowPx: 18 }]);
  });

  it("shows cache hits on the timeline and in the action tree", () => {
    expect(timeline.bars.find((b) => b[6] === "d3")?.[4]).toBe("hit");
    expect(html).toMatch(/<code>d3<\/code> <span class="facts">1ms · cache hit/);
  });

  it("escapes the embedded timeline so task text cannot end its script element", () => {
    const sneaky = renderRunReport({
      ...run,
      actions: [{ ...run.actions[0]!, task: "x.</script><b>" }],
    });
    expect(sneaky).not.toContain("</script><b>");
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

describe("the report of a large run, rendered in slices", () => {
  it("is the same page as rendered at once", async () => {
    const actions: RunRecordData["actions"][number][] = [run.actions[0] as never];
    for (let i = 0; i < 6000; i++) {
      const failed = i % 97 === 0;
      actions.push({
        id: `c${i}`,
        parent: "a0",
        task: i % 2 === 0 ? "train.fit" : "train.eval",
        group: i % 3 === 0 ? "folds" : undefined,
        status: failed ? "failed" : "succeeded",
        cacheHit: i % 11 === 0,
        queuedAt: t0 + i,
        endedAt: t0 + i + 50,
        attempts:
          i % 11 === 0
            ? []
            : [
                {
                  attempt: 0,
                  startedAt: t0 + i,
                  runningAt: t0 + i + 5,
                  endedAt: t0 + i + 50,
                  lane: `train/thread-${i % 4}`,
                  threadId: i % 4,
                  ...(failed ? { error: boom } : {}),
                },
              ],
        ...(failed ? { error: boom } : {}),
      });
    }
    const large: RunRecordData = { ...run, actions };
    const extras = { tabs: { c5: [{ name: "plot", html: "<b>5</b>" }] } };
    const sliced = await renderRunReportSliced(large, extras);
    expect(sliced).toBe(renderRunReport(large, extras));
    const json = /<script type="application\/json" id="timeline-data">(.*?)<\/script>/s.exec(
      sliced,
    );
    expect(JSON.parse(json?.[1] ?? "null")).toEqual(
      JSON.parse(JSON.stringify(timelineData(large))),
    );
  });
});

describe("an action's wait and run time", () => {
  // Attempt 0 waited 10ms and ran 100ms, then failed; attempt 1 waited 5ms and ran 50ms.
  const retried: RunRecordData = {
    name: "retried",
    task: "train.fit",
    status: "succeeded",
    startedAt: t0,
    endedAt: t0 + 260,
    actions: [
      {
        id: "a0",
        parent: undefined,
        task: "train.fit",
        group: undefined,
        status: "succeeded",
        cacheHit: false,
        queuedAt: t0,
        endedAt: t0 + 255,
        attempts: [
          { attempt: 0, startedAt: t0, runningAt: t0 + 10, endedAt: t0 + 110, error: timeout },
          { attempt: 1, startedAt: t0 + 200, runningAt: t0 + 205, endedAt: t0 + 255 },
        ],
      },
    ],
  };

  it("is the last attempt's, in the report's action list as in `flyte-ts runs show`", () => {
    expect(lastAttemptTimes(retried.actions[0] as ActionRecord)).toEqual({
      waitedMs: 5,
      ranMs: 50,
    });
    const html = renderRunReport(retried, {});
    expect(html).toContain('<span class="facts">ran 50ms · waited 5ms · 2 attempts</span>');
  });
});
