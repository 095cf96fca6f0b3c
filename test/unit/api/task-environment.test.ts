import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { problemPaths, problemsOf } from "../../fixtures/config-problems.js";

describe("TaskEnvironment", () => {
  it("rejects names that are not snake_case or kebab-case (case 8)", () => {
    for (const name of ["invalid-name!", "Env", "a__b", "-a", "a-"]) {
      expect(() => new flyte.TaskEnvironment({ name })).toThrow(/snake_case or kebab-case/);
    }
    for (const name of ["valid_name", "valid-name", "valid123_name"]) {
      expect(new flyte.TaskEnvironment({ name }).name).toBe(name);
    }
  });

  it("lists every problem of a definition at once, each with its path", () => {
    expect(
      problemPaths(
        () =>
          new flyte.TaskEnvironment({
            name: "Bad!",
            resources: { cpu: -1, memory: "lots" },
            envVars: { A: 1 as never },
            runtime: "gpu" as never,
            bogus: true,
          } as never),
      ),
    ).toEqual(
      expect.arrayContaining([
        "name",
        "resources.cpu",
        "resources.memory",
        "envVars.A",
        "runtime",
        "bogus",
      ]),
    );
  });

  it("names tasks <env>.<function> and keeps them in definition order (cases 9, 10)", () => {
    const env = new flyte.TaskEnvironment({ name: "env_with_tasks" });
    const first = env.task(async function sampleTask() {});
    const second = env.task({ name: "test" }, async function sampleTask2() {});
    expect(first.name).toBe("env_with_tasks.sampleTask");
    expect(second.name).toBe("env_with_tasks.sampleTask2");
    expect(second.shortName).toBe("test");
    expect([...env.tasks.keys()]).toEqual([
      "env_with_tasks.sampleTask",
      "env_with_tasks.sampleTask2",
    ]);
    expect([...env.tasks.values()]).toContain(first);
  });

  it("keeps the raw function as .func (case 9)", () => {
    const env = new flyte.TaskEnvironment({ name: "raw" });
    async function foo() {
      return 1;
    }
    expect(env.task(foo).func).toBe(foo);
  });

  it("requires a name for a nameless function and refuses duplicate names", () => {
    const env = new flyte.TaskEnvironment({ name: "naming" });
    expect(() => env.task((() => 1) as () => number)).toThrow(/no name/);
    expect(env.task({ name: "anon" }, (() => 1) as () => number).name).toBe("naming.anon");
    env.task(async function dup() {});
    expect(() => env.task(async function dup() {})).toThrow(/already defined/);
  });

  it("clones with a new name, inherited settings and no tasks (case 11)", () => {
    const env = new flyte.TaskEnvironment({
      name: "env1",
      image: "repo/image:1",
      resources: new flyte.Resources({ cpu: 1 }),
      cache: "auto",
      reusable: new flyte.ReusePolicy({ replicas: 2 }),
    });
    env.task(async function inParent() {});
    const clone = env.cloneWith({ name: "env2", reusable: undefined });
    expect(clone.image).toBe("repo/image:1");
    expect(clone.resources).toBe(env.resources);
    expect(clone.cache.behavior).toBe("auto");
    expect(clone.reusable).toBeUndefined();
    expect(clone.tasks.size).toBe(0);
    expect(clone.task(async function inClone() {}).name).toBe("env2.inClone");
    expect(env.cloneWith({ name: "env3" }).reusable).toBe(env.reusable);
  });

  it("clones with overridden settings (case 12)", () => {
    const base = new flyte.TaskEnvironment({ name: "base" });
    const dep = new flyte.TaskEnvironment({ name: "dep" });
    const clone = base.cloneWith({
      name: "changed",
      image: "other:2",
      resources: { cpu: 2 },
      cache: "override",
      envVars: { A: "1" },
      secrets: ["TOKEN"],
      dependsOn: [dep],
    });
    expect(clone.image).toBe("other:2");
    expect(clone.resources?.cpu).toBe(2);
    expect(clone.cache.behavior).toBe("override");
    expect(clone.envVars).toEqual({ A: "1" });
    expect(clone.secrets.map((s) => s.key)).toEqual(["TOKEN"]);
    expect(clone.dependsOn).toEqual([dep]);
  });

  it("takes the seed's env and envDepHints as envVars and dependsOn", () => {
    const dep = new flyte.Environment({ name: "seed-dep" });
    const env = new flyte.TaskEnvironment({
      name: "seed-spelling",
      env: { LOG_LEVEL: "info" },
      envDepHints: [dep],
    });
    expect(env.envVars).toEqual({ LOG_LEVEL: "info" });
    expect(env.dependsOn).toEqual([dep]);
    const base = new flyte.Environment({ name: "seed-base", env: { A: "1" } });
    expect(base.envVars).toEqual({ A: "1" });
  });

  it("refuses both spellings of one option, naming the seed's spelling", () => {
    const dep = new flyte.Environment({ name: "both-dep" });
    const problems = problemsOf(
      () =>
        new flyte.TaskEnvironment({
          name: "both",
          env: { A: "1" },
          envVars: { A: "2" },
          envDepHints: [dep],
          dependsOn: [dep],
        }),
    );
    expect(problems.map((p) => p.path)).toEqual(["env", "envDepHints"]);
    expect(problems[0]?.message).toMatch(/give one of them, not both/);
  });

  it("clones a base Environment with a new name and the seed's spellings", () => {
    const dep = new flyte.Environment({ name: "clone-dep" });
    const base = new flyte.Environment({ name: "shared", env: { A: "1" }, description: "d" });
    const clone = base.cloneWith({ name: "shared-2", env: { B: "2" }, envDepHints: [dep] });
    expect(clone).toBeInstanceOf(flyte.Environment);
    expect(clone).not.toBeInstanceOf(flyte.TaskEnvironment);
    expect(clone.name).toBe("shared-2");
    expect(clone.envVars).toEqual({ B: "2" });
    expect(clone.dependsOn).toEqual([dep]);
    expect(clone.description).toBe("d");
  });

  it("refuses a clone without a name instead of copying under the same name", () => {
    const env = new flyte.TaskEnvironment({ name: "nameless-clone" });
    const problems = problemsOf(() =>
      env.cloneWith({} as unknown as Parameters<typeof env.cloneWith>[0]),
    );
    expect(problems.map((p) => p.path)).toEqual(["name"]);
    expect(problems[0]?.message).toMatch(/needs its own `name`/);
    expect(() =>
      new flyte.Environment({ name: "base-nameless" }).cloneWith({} as unknown as { name: string }),
    ).toThrow(flyte.errors.InvalidConfigError);
  });

  it("refuses a pod template on a task of a reusable environment (case 13)", () => {
    const env = new flyte.TaskEnvironment({ name: "reusable", reusable: { replicas: 1 } });
    expect(() => env.task({ podTemplate: "custom" }, async function withPod() {})).toThrow(
      /podTemplate/,
    );
  });

  it("refuses adding a task whose name is already there (case 14)", () => {
    const env = new flyte.TaskEnvironment({ name: "adds" });
    const t = env.task(async function added() {});
    expect(() => env.addTask(t)).toThrow(/already exists/);
  });

  it("refuses a synchronous task in a reusable environment with concurrency > 1", () => {
    const env = new flyte.TaskEnvironment({
      name: "conc",
      reusable: { replicas: 1, concurrency: 4 },
    });
    expect(() => env.task(function syncTask() {})).toThrow(/async/);
  });

  it("defaults cache to disable and runtime to thread, or process for device environments", () => {
    const plain = new flyte.TaskEnvironment({ name: "plain" });
    expect(plain.cache.behavior).toBe("disable");
    expect(plain.runtime).toBe("thread");
    const gpu = new flyte.TaskEnvironment({ name: "gpu", resources: { gpu: "A100:1" } });
    expect(gpu.runtime).toBe("process");
    expect(
      () => new flyte.TaskEnvironment({ name: "gpu2", resources: { gpu: 1 }, runtime: "thread" }),
    ).toThrow(/per process/);
  });

  it("adds dependencies and refuses itself", () => {
    const a = new flyte.TaskEnvironment({ name: "a" });
    const b = new flyte.TaskEnvironment({ name: "b" });
    a.addDependency(b, b);
    expect(a.dependsOn).toEqual([b]);
    expect(() => a.addDependency(a)).toThrow(/itself/);
  });
});

describe("task.override", () => {
  const env = new flyte.TaskEnvironment({ name: "overrides", runtime: "inline" });
  const oomer = env.task(async function oomer(x: number) {
    return x;
  });

  it("returns a new task with the given resources (case 15)", () => {
    const changed = oomer.override({ resources: new flyte.Resources({ cpu: 2, memory: "500Mi" }) });
    expect(changed).not.toBe(oomer);
    expect(changed.name).toBe(oomer.name);
    expect(changed.resources?.cpu).toBe(2);
    expect(changed.cache).toBeInstanceOf(flyte.Cache);
    expect(env.tasks.get(oomer.name)).toBe(oomer);
  });

  it("takes the seed's env as envVars, and refuses both", () => {
    expect(oomer.override({ env: { A: "1" } }).envVars).toEqual({ A: "1" });
    expect(problemPaths(() => oomer.override({ env: { A: "1" }, envVars: { A: "2" } }))).toEqual([
      "env",
    ]);
  });

  it("applies upstream's guards for reusable tasks (case 16)", () => {
    const reusableEnv = new flyte.TaskEnvironment({
      name: "reuse_guard",
      reusable: { replicas: 2 },
    });
    const t = reusableEnv.task(async function reused() {});
    expect(() => oomer.override({ resources: { cpu: 1 }, reusable: { replicas: 1 } })).toThrow(
      /resources/,
    );
    expect(() => t.override({ resources: { cpu: 1 } })).toThrow(/reusable: "off"/);
    expect(() => t.override({ envVars: {} })).toThrow(/envVars/);
    expect(() => t.override({ secrets: "s" })).toThrow(/secrets/);
    const off = t.override({ reusable: "off", resources: { cpu: 1 } });
    expect(off.reusable).toBeUndefined();
    expect(t.override({ cache: new flyte.Cache("auto") }).resources).toBe(t.resources);
  });

  it("refuses overriding the name, image or docs", () => {
    expect(() => oomer.override({ name: "x" } as never)).toThrow(/Name cannot be overridden/);
    expect(() => oomer.override({ image: "x" } as never)).toThrow(/Image cannot be overridden/);
  });

  it("runs an overridden task as a normal sub-action", async () => {
    const parent = env.task(async function overrideParent() {
      return oomer.override({ retries: 2 })(5);
    });
    expect(await (await flyte.run(parent)).outputs()).toBe(5);
  });
});
