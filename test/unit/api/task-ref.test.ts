import { describe, expect, it } from "vitest";
import { applyOverrides, decodeSetting, encodeSetting } from "../../../src/api/task-ref.js";
import * as flyte from "../../../src/index.js";

const env = new flyte.TaskEnvironment({ name: "refs", runtime: "inline" });
const square = env.task(async function square(x: number) {
  return x * x;
});

describe("a task reference's override settings", () => {
  it("round-trip every value class as data, with the same behaviour", () => {
    const settings = {
      retries: new flyte.RetryStrategy({
        count: 3,
        backoff: new flyte.Backoff({ base: 1, factor: 2, cap: 10 }),
      }),
      timeout: new flyte.Timeout({ maxRuntime: "5m", maxQueuedTime: 30 }),
      resources: new flyte.Resources({ cpu: 2, memory: "1GiB", gpu: flyte.GPU("H100", 2) }),
      cache: new flyte.Cache({ behavior: "auto", salt: "s", ignoredInputs: ["x"] }),
      reusable: new flyte.ReusePolicy({ replicas: [1, 3], idleTtl: 60 }),
      secrets: [new flyte.Secret({ key: "api-key", group: "openai" })],
    };
    // Through structured clone, as a worker sends them.
    const data = structuredClone(encodeSetting(settings));
    const back = decodeSetting(data) as typeof settings;
    expect(back.retries).toBeInstanceOf(flyte.RetryStrategy);
    expect([0, 1, 2, 3].map((n) => back.retries.delayMs(n))).toEqual(
      [0, 1, 2, 3].map((n) => settings.retries.delayMs(n)),
    );
    expect(back.timeout.maxRuntimeMs).toBe(300_000);
    expect(back.resources.getDevice()).toEqual(settings.resources.getDevice());
    expect(back.resources.memoryRequestBytes).toBe(2 ** 30);
    expect(back.cache.getVersion?.({ func: square.func } as never)).toBe(
      settings.cache.getVersion?.({ func: square.func } as never),
    );
    expect(back.reusable.maxReplicas).toBe(3);
    expect(back.secrets[0]?.envVarName).toBe("OPENAI_API_KEY");
    expect(Object.isFrozen(back.timeout)).toBe(true);
  });

  it("rebuild the same override object for the same settings", () => {
    const over = square.override({ retries: 2, reusable: "off" });
    const a = applyOverrides(square, structuredClone(over.overrides ?? {}));
    const b = applyOverrides(square, structuredClone(over.overrides ?? {}));
    expect(a).toBe(b);
    expect(a.retries.count).toBe(2);
    expect(a.reusable).toBeUndefined();
    expect(a.name).toBe(square.name);
  });

  it("refuses an object of another class, saying where to make the override", () => {
    class Custom {
      readonly x = 1;
    }
    expect(() => encodeSetting({ policy: new Custom() })).toThrow(/top level of the module/);
  });
});
