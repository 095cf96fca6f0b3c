import { describe, expect, it } from "vitest";
import { AttemptAbort } from "../../../src/execution/attempt-abort.js";

describe("AttemptAbort", () => {
  it("calls each listener once, with the reason set, and not after it unregistered", () => {
    const abort = new AttemptAbort();
    const heard: unknown[] = [];
    abort.onAbort(() => heard.push(abort.reason));
    const stop = abort.onAbort(() => heard.push("unregistered"));
    stop();
    const reason = new Error("stop");
    abort.abort(reason);
    abort.abort(new Error("again"));
    expect(heard).toEqual([reason]);
    expect(abort.aborted).toBe(true);
  });

  it("makes its signal on first read, aborted already when the attempt was", () => {
    const early = new AttemptAbort();
    const signal = early.signal;
    expect(signal.aborted).toBe(false);
    early.abort("timeout");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe("timeout");
    const late = new AttemptAbort();
    late.abort("cancelled");
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe("cancelled");
    expect(late.signal).toBe(late.signal);
  });

  it("follows a plain AbortSignal", () => {
    const controller = new AbortController();
    const abort = AttemptAbort.following(controller.signal);
    let heard = 0;
    abort.onAbort(() => heard++);
    controller.abort("why");
    expect([heard, abort.reason]).toEqual([1, "why"]);
    expect(AttemptAbort.following(controller.signal).aborted).toBe(true);
  });
});
