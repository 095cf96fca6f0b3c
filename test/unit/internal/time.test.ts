import { describe, expect, it } from "vitest";
import { durationToMs, formatMs, ManualClock } from "../../../src/internal/time.js";

describe("durations", () => {
  it("reads numbers as seconds and strings with units", () => {
    expect(durationToMs(1.5)).toBe(1500);
    expect(durationToMs("500ms")).toBe(500);
    expect(durationToMs("30s")).toBe(30_000);
    expect(durationToMs("5m")).toBe(300_000);
    expect(durationToMs("2h")).toBe(7_200_000);
    expect(durationToMs("1d")).toBe(86_400_000);
    expect(durationToMs("1h30m")).toBe(5_400_000);
    expect(durationToMs("90")).toBe(90_000);
  });

  it("refuses what is not a duration, saying what is expected", () => {
    for (const bad of [-1, Number.NaN, "5 minutes", "", "m5", {}, null]) {
      expect(() => durationToMs(bad)).toThrow(/Expected a duration/);
    }
  });

  it("formats milliseconds for people", () => {
    expect(formatMs(850)).toBe("850ms");
    expect(formatMs(12_340)).toBe("12.3s");
    expect(formatMs(245_000)).toBe("4m05s");
  });
});

describe("ManualClock", () => {
  it("fires timers in order only when advanced", () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimer(200, () => fired.push("b"));
    clock.setTimer(100, () => fired.push("a"));
    const cancel = clock.setTimer(150, () => fired.push("cancelled"));
    cancel();
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(101);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(1200);
  });

  it("resolves nextTimer once something is scheduled", async () => {
    const clock = new ManualClock();
    const waiting = clock.nextTimer();
    clock.setTimer(300, () => {});
    expect(await waiting).toBe(300);
    expect(clock.pending).toEqual([300]);
  });
});
