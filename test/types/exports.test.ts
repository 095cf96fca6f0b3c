import * as flyte from "flyte-ts";
import { describe, expectTypeOf, it } from "vitest";

describe("the public option types", () => {
  it("are exported under their names, TimeoutType as upstream's", () => {
    const timeout: flyte.TimeoutType = new flyte.Timeout({ deadline: "1h" });
    expectTypeOf(timeout).toMatchTypeOf<flyte.TimeoutRequest>();
    expectTypeOf<flyte.TimeoutOptions>().toHaveProperty("deadline");
    expectTypeOf<flyte.RetryOptions>().toHaveProperty("backoff");
    expectTypeOf<flyte.BackoffOptions>().toHaveProperty("cap");
    expectTypeOf<flyte.ReusePolicyOptions>().toHaveProperty("scaledownTtl");
    expectTypeOf<flyte.SecretOptions>().toHaveProperty("mount");
    expectTypeOf<flyte.PodTemplateOptions>().toHaveProperty("podSpec");
    expectTypeOf<flyte.V1PodTemplateLike>().toHaveProperty("template");
    expectTypeOf<flyte.ResourcesOptions>().toHaveProperty("memory");
    expectTypeOf<flyte.CpuValue>().toEqualTypeOf<number | string>();
    expectTypeOf<flyte.DeviceOptions>().toHaveProperty("quantity");
    expectTypeOf<flyte.GpuType>().toMatchTypeOf<string>();
    expectTypeOf<flyte.TpuType>().toMatchTypeOf<string>();
    expectTypeOf<flyte.GpuQuantity>().toMatchTypeOf<number>();
    expectTypeOf<flyte.AutoImageOptions>().toHaveProperty("registry");
    expectTypeOf<flyte.DockerfileImageOptions>().toHaveProperty("name");
    expectTypeOf<flyte.UvDebianOptions>().toHaveProperty("pythonVersion");
    expectTypeOf<flyte.UvScriptOptions>().toHaveProperty("indexUrl");
    expectTypeOf<flyte.ImageCloneOptions>().toHaveProperty("addLayer");
    expectTypeOf<flyte.PipOptions>().toHaveProperty("pre");
    expectTypeOf<flyte.Platform>().toMatchTypeOf<string>();
    expectTypeOf<flyte.EnvironmentCloneOptions>().toHaveProperty("envDepHints");
    expectTypeOf<flyte.TaskEnvironmentCloneOptions>().toHaveProperty("reusable");
    expectTypeOf<flyte.CacheBehaviorAlias>().toMatchTypeOf<string>();
    expectTypeOf<flyte.MapInput<[number]>>().toEqualTypeOf<number>();
    expectTypeOf<flyte.TaskContextData>().toHaveProperty("secretsDir");
    expectTypeOf<flyte.RunEngine>().toHaveProperty("scheduler");
    expectTypeOf<flyte.RateLimitOptions>().toHaveProperty("per");
    expectTypeOf<flyte.TaskLimits>().toHaveProperty("rate");
    expectTypeOf<flyte.GpuShareOptions>().toHaveProperty("fraction");
    expectTypeOf<flyte.RunOptions>().toHaveProperty("maxActionConcurrency");
    expectTypeOf<flyte.TaskEnvironmentOptions>().toHaveProperty("rateLimit");
  });

  it("type a partial task's results as the task's", () => {
    const env = new flyte.TaskEnvironment({ name: "types-partial", runtime: "inline" });
    const scale = env.task(async function scale(x: number, factor: number) {
      return x * factor;
    });
    expectTypeOf(
      flyte.map(scale.partial({ factor: 2 }), [1, 2], { returnExceptions: false }),
    ).toEqualTypeOf<flyte.MapResults<number>>();
  });
});
