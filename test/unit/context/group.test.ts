import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const env = new flyte.TaskEnvironment({ name: "groups", runtime: "inline" });
const readGroup = env.task(async function readGroup() {
  return flyte.group("test_group", () => flyte.ctx()!.group);
});
const childGroup = env.task(async function childGroup() {
  return flyte.ctx()!.group ?? "none";
});
const callsInGroup = env.task(async function callsInGroup() {
  return flyte.group("outer", () => childGroup());
});

describe("flyte.group", () => {
  it("sets the group name inside a run (case 17)", async () => {
    const run = await flyte.run(readGroup);
    expect(await run.outputs()).toBe("test_group");
    expect(flyte.ctx()).toBeNull();
  });

  it("makes a task body that reads ctx() fail outside a run (case 17)", async () => {
    await expect(readGroup()).rejects.toThrow(TypeError);
  });

  it("records the group on the calls made inside it, not inside the called task", async () => {
    const run = await flyte.run(callsInGroup);
    expect(await run.outputs()).toBe("none");
    const child = run.actions.find((a) => a.task === "groups.childGroup");
    expect(child?.group).toBe("outer");
  });

  it("keeps the attempt's signal and checkpoint inside a group and a traced call", async () => {
    const t = env.task(async function sameAttempt() {
      const outer = flyte.ctx()!;
      const inGroup = flyte.group("g", () => flyte.ctx()!);
      const inTrace = await flyte.trace(async function traced() {
        return flyte.ctx()!;
      })();
      return [
        inGroup.signal === outer.signal && inTrace.signal === outer.signal,
        inGroup.checkpoint === outer.checkpoint && inTrace.checkpoint === outer.checkpoint,
        inGroup.group,
        inGroup.action.name === outer.action.name,
        String(outer.action).startsWith("ActionID(name="),
      ];
    });
    expect(await (await flyte.run(t)).outputs()).toEqual([true, true, "g", true, true]);
  });

  it("restores the previous group after the block", async () => {
    const t = env.task(async function restores() {
      flyte.group("g1", () => undefined);
      return flyte.ctx()!.group;
    });
    expect(await (await flyte.run(t)).outputs()).toBeUndefined();
  });

  it("just calls the function outside a task", () => {
    expect(flyte.group("x", () => 42)).toBe(42);
  });
});
