import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../../src/record/events.js";
import { createLiveView } from "../../../src/record/live-view.js";
import { rootEvents, running } from "../../fixtures/run-events.js";

const esc = String.fromCharCode(27);

function run(children: number): RunEvent[] {
  const events: RunEvent[] = rootEvents("demo.main", 0);
  for (let i = 0; i < children; i++) {
    const action = `c${i}`;
    const task = `demo.a_task_with_a_rather_long_name_${i}`;
    events.push(
      { type: "action-queued", action, parent: "a0", task, group: undefined, at: 1 },
      { type: "attempt-started", action, attempt: 0, at: 1 },
      running(action, 0, 1),
      { type: "action-finished", action, status: "succeeded", at: 2 },
    );
  }
  events.push(
    { type: "action-finished", action: "a0", status: "succeeded", at: 3 },
    { type: "run-finished", run: "r", status: "succeeded", at: 3 },
  );
  return events;
}

describe("the terminal view", () => {
  it("fits each frame in the terminal: lines cut at its width, a tail line past its height", () => {
    const written: string[] = [];
    const view = createLiveView({
      mode: "tty",
      output: { write: (t) => written.push(t), columns: 40, rows: 6, now: () => 3 },
    });
    for (const event of run(10)) view.onEvent(event);
    view.finish("/runs/r/report.html");
    const text = written.join("");
    expect(text.startsWith(`${esc}[?25l`)).toBe(true);
    expect(text.endsWith(`${esc}[?25h`)).toBe(true);
    // The last frame: back to its first line (and up over the previous frame, if any), then
    // each line followed by clear-to-end-of-line, then clear-below.
    const frame = text.slice(text.lastIndexOf("\r") + 1, text.lastIndexOf(`${esc}[J`));
    const lines = frame
      .replace(new RegExp(`^${esc}\\[\\d+A`), "")
      .split(`${esc}[K\n`)
      .filter((l) => l !== "");
    expect(lines).toEqual([
      "run r · 3ms · 11/11 actions done",
      "✔ main a0  3ms",
      "  ✔ a_task_with_a_rather_long_name_0 c…",
      "  ✔ a_task_with_a_rather_long_name_1 c…",
      "  … 8 more lines",
    ]);
    expect(text).toContain(
      "✔ run r succeeded in 3ms · 11 actions: 11 done · cache-hit rate 0% · report: /runs/r/report.html\n",
    );
  });

  it("writes nothing in quiet mode", () => {
    const written: string[] = [];
    const view = createLiveView({ mode: "quiet", output: { write: (t) => written.push(t) } });
    for (const event of run(2)) view.onEvent(event);
    view.finish(undefined);
    expect(written).toEqual([]);
  });
});
