import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Resources } from "../../../src/api/resources.js";
import { TaskEnvironment } from "../../../src/api/task-environment.js";
import { DeploymentError, InvalidConfigError, RuntimeSystemError } from "../../../src/errors.js";
import { extractBundle, writeBundle } from "../../../src/offload/bundle.js";
import {
  ERROR_FILE,
  OUTPUTS_FILE,
  readInputs,
  readResult,
  writeError,
  writeInputs,
  writeOutputs,
} from "../../../src/offload/io.js";
import { runsOffloaded } from "../../../src/offload/offload-executor.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "flyte-bundle-"));
  mkdirSync(join(root, "src", "lib"), { recursive: true });
  mkdirSync(join(root, "node_modules", "dep"), { recursive: true });
  writeFileSync(join(root, "package.json"), '{"type":"module"}\n');
  writeFileSync(
    join(root, "src", "app.ts"),
    'import * as flyte from "flyte-ts";\nimport { a } from "./lib/a.js";\nexport { b } from "./lib/b";\nconst c = await import("./lib/c.ts");\n',
  );
  writeFileSync(
    join(root, "src", "lib", "a.ts"),
    'import "../../node_modules/dep/x.js";\nexport const a = 1;\n',
  );
  writeFileSync(join(root, "src", "lib", "b.ts"), "export const b = 2;\n");
  writeFileSync(join(root, "src", "lib", "c.ts"), "export const c = 3;\n");
  writeFileSync(join(root, "src", "unused.ts"), "export const u = 4;\n");
  writeFileSync(join(root, "node_modules", "dep", "x.js"), "export {};\n");
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const app = () => pathToFileURL(join(root, "src", "app.ts")).href;

describe("writeBundle", () => {
  it('bundles a task\'s module and the relative modules it imports for "loaded_modules"', async () => {
    const bundle = await writeBundle({
      copyStyle: "loaded_modules",
      modules: [app()],
      root,
      dir: join(root, "out"),
    });
    expect(bundle?.files).toEqual([
      "package.json",
      "src/app.ts",
      "src/lib/a.ts",
      "src/lib/b.ts",
      "src/lib/c.ts",
    ]);
    expect(bundle?.file).toBe(join(root, "out", `bundle-${bundle?.hash}.tgz`));
  });

  it('bundles every file but node_modules, .git and .flyte for "all", and nothing for "none"', async () => {
    mkdirSync(join(root, ".flyte"));
    writeFileSync(join(root, ".flyte", "cache.db"), "x");
    const all = await writeBundle({
      copyStyle: "all",
      modules: [],
      root,
      dir: join(root, "..", `out-${Date.now()}`),
    });
    expect(all?.files).toEqual([
      "package.json",
      "src/app.ts",
      "src/lib/a.ts",
      "src/lib/b.ts",
      "src/lib/c.ts",
      "src/unused.ts",
    ]);
    rmSync(join(all?.file as string, ".."), { recursive: true, force: true });
    expect(
      await writeBundle({ copyStyle: "none", modules: [app()], root, dir: root }),
    ).toBeUndefined();
  });

  it("gives the same files the same bytes and hash, and changed code a new hash", async () => {
    const options = { copyStyle: "loaded_modules" as const, modules: [app()], root };
    const first = await writeBundle({ ...options, dir: join(root, "one") });
    const second = await writeBundle({ ...options, dir: join(root, "two") });
    expect(second?.hash).toBe(first?.hash);
    expect(readFileSync(second?.file as string)).toEqual(readFileSync(first?.file as string));
    writeFileSync(join(root, "src", "lib", "b.ts"), "export const b = 22;\n");
    const changed = await writeBundle({ ...options, dir: join(root, "three") });
    expect(changed?.hash).not.toBe(first?.hash);
  });

  it("unpacks into a folder with the same relative paths", async () => {
    const bundle = await writeBundle({
      copyStyle: "loaded_modules",
      modules: [app()],
      root,
      dir: join(root, "out"),
    });
    const dest = join(root, "unpacked");
    await extractBundle(bundle?.file as string, dest);
    expect(readFileSync(join(dest, "src", "lib", "c.ts"), "utf8")).toBe("export const c = 3;\n");
    expect(await readdir(join(dest, "src"))).toEqual(["app.ts", "lib"]);
  });

  it("ships each module bundled into one .mjs for interactiveMode, relative imports inlined", async () => {
    writeFileSync(
      join(root, "src", "app.ts"),
      'import * as flyte from "flyte-ts";\nimport { a } from "./lib/a.js";\nexport const v: string = flyte.version + String(a);\n',
    );
    const bundle = await writeBundle({
      copyStyle: "none",
      interactive: true,
      modules: [app()],
      root,
      dir: join(root, "..", `out-interactive-${Date.now()}`),
    });
    expect(bundle?.files).toEqual(["src/app.mjs"]);
    const dest = mkdtempSync(join(tmpdir(), "flyte-unpacked-"));
    await extractBundle(bundle?.file as string, dest);
    const code = readFileSync(join(dest, "src", "app.mjs"), "utf8");
    expect(code).toContain('from "flyte-ts"');
    expect(code).toContain("var a = 1;");
    expect(code).not.toContain("./lib/a.js");
    rmSync(dest, { recursive: true, force: true });
  });

  it("refuses a task module outside the root", async () => {
    const outside = pathToFileURL(join(tmpdir(), "elsewhere.ts")).href;
    await expect(
      writeBundle({
        copyStyle: "loaded_modules",
        modules: [outside],
        root,
        dir: join(root, "out"),
      }),
    ).rejects.toThrow(DeploymentError);
  });
});

describe("offload inputs and outputs files", () => {
  it("round-trips inputs and outputs with Maps, Dates, BigInts and typed arrays", async () => {
    const args = [new Map([["k", 1n << 70n]]), new Date(5), new Float64Array([1.5, 2.5])];
    await writeInputs(join(root, "in.v8"), { args, customContext: { team: "ml" } });
    expect(await readInputs(join(root, "in.v8"))).toEqual({ args, customContext: { team: "ml" } });
    await writeOutputs(join(root, "out"), { set: new Set([1, 2]) });
    expect(await readResult(join(root, "out"))).toEqual({ set: new Set([1, 2]) });
    // Written atomically: only the final file is left in the folder.
    expect(await readdir(join(root, "out"))).toEqual([OUTPUTS_FILE]);
  });

  it("rebuilds a written error into its class, and says when a folder holds no result", async () => {
    await writeError(
      join(root, "failed"),
      new InvalidConfigError("Thing", [{ path: "x", message: "bad" }]),
    );
    expect(await readdir(join(root, "failed"))).toEqual([ERROR_FILE]);
    await expect(readResult(join(root, "failed"))).rejects.toThrow(InvalidConfigError);
    await expect(readResult(join(root, "empty"))).rejects.toThrow(RuntimeSystemError);
    await expect(readResult(join(root, "empty"))).rejects.toThrow(
      /left neither outputs.v8 nor error.json/,
    );
  });

  it("rejects a file that is not an inputs file", async () => {
    writeFileSync(join(root, "bogus.v8"), "hello");
    await expect(readInputs(join(root, "bogus.v8"))).rejects.toThrow(/Cannot read the inputs file/);
  });
});

describe("TaskEnvironment offload", () => {
  it('accepts "kubernetes" and "slurm", inherits them through cloneWith, and rejects anything else', () => {
    const env = new TaskEnvironment({ name: "remote-gpu", offload: "kubernetes" });
    expect(env.offload).toBe("kubernetes");
    expect(env.cloneWith({ name: "copy" }).offload).toBe("kubernetes");
    expect(new TaskEnvironment({ name: "hpc", offload: "slurm" }).offload).toBe("slurm");
    expect(new TaskEnvironment({ name: "here" }).offload).toBeUndefined();
    const bad = () => new TaskEnvironment({ name: "bad", offload: "lsf" as "kubernetes" });
    expect(bad).toThrow(InvalidConfigError);
    expect(bad).toThrow(
      /Expected `offload` to be "kubernetes", "slurm", a flyte.Slurm or left out, got "lsf"/,
    );
  });
});

describe("which actions a run offloads", () => {
  // This host, as a ledger would judge it: 8 CPUs and 32 GiB.
  const host = (r: Resources | undefined) =>
    (r?.cpuRequest ?? 0) > 8 || (r?.memoryRequestBytes ?? 0) > 32 * 2 ** 30;
  const marked = new TaskEnvironment({ name: "marked", offload: "kubernetes" });
  const big = new TaskEnvironment({ name: "big", resources: { cpu: 64 } });
  const hungry = new TaskEnvironment({ name: "hungry", resources: { memory: "512Gi" } });
  const small = new TaskEnvironment({ name: "small", resources: { cpu: 2, memory: "1Gi" } });
  const fns = {
    marked: marked.task(async function m() {}),
    big: big.task(async function b() {}),
    hungry: hungry.task(async function h() {}),
    small: small.task(async function s() {}),
  };

  it("offloads marked environments and requests this host cannot hold in hybrid runs only", () => {
    expect(runsOffloaded("hybrid", fns.marked, host)).toBe(true);
    expect(runsOffloaded("hybrid", fns.big, host)).toBe(true);
    expect(runsOffloaded("hybrid", fns.hungry, host)).toBe(true);
    expect(runsOffloaded("hybrid", fns.small, host)).toBe(false);
    expect(runsOffloaded("local", fns.marked, host)).toBe(false);
    expect(runsOffloaded("remote", fns.small, host)).toBe(true);
  });
});
