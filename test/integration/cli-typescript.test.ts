// `flyte-ts run` of TypeScript programs: run as compiled copies under node_modules/.cache/flyte-ts
// (no tsx loader in the CLI or its workers), compiled again when a module changes, and left to
// tsx where a copy cannot stand in.
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot, runCli } from "../fixtures/cli/cli-process.js";

let home: string;
let projects: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-cli-ts-"));
  projects = await mkdtemp(join(tmpdir(), "flyte-ts-cli-ts-projects-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(projects, { recursive: true, force: true });
});

/** A project folder of its own: package.json (`type`), a node_modules folder, and `files`. */
async function project(type: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(projects, "p-"));
  await mkdir(join(dir, "node_modules"));
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "p", type }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** The compiled copies in a project's cache folder. */
function copies(dir: string): string[] {
  const cache = join(dir, "node_modules", ".cache", "flyte-ts");
  return existsSync(cache) ? readdirSync(cache).filter((name) => name.endsWith(".mjs")) : [];
}

const program = (word: string) => `
import * as flyte from "flyte-ts";
const env = new flyte.TaskEnvironment({ name: "edited" });
export const say = env.task(async function say(): Promise<string> {
  return "${word}";
});
`;

describe("flyte-ts run of a TypeScript program", () => {
  it("runs modules that import each other, enums and import.meta from their compiled copies", async () => {
    const r = await runCli(
      ["run", "--quiet", "test/fixtures/cli/compiled/main.ts", "main", "--n", "3"],
      { FLYTE_TS_HOME: home },
    );
    expect(r).toMatchObject({ code: 0, stdout: "hello High 6 true\n", stderr: "" });
    const cached = copies(repoRoot);
    for (const module of ["main", "levels", "twice"]) {
      expect(cached.some((name) => name.startsWith(`${module}-`))).toBe(true);
    }
  });

  it("compiles a module again once its text changes", async () => {
    const dir = await project("module", { "say.ts": program("before") });
    const before = await runCli(["run", "--quiet", join(dir, "say.ts"), "say"], {
      FLYTE_TS_HOME: home,
    });
    expect(before).toMatchObject({ code: 0, stdout: "before\n" });
    await writeFile(join(dir, "say.ts"), program("after"));
    const after = await runCli(["run", "--quiet", join(dir, "say.ts"), "say"], {
      FLYTE_TS_HOME: home,
    });
    expect(after).toMatchObject({ code: 0, stdout: "after\n" });
    expect(copies(dir)).toHaveLength(1);
  });

  it("leaves TypeScript in a CommonJS package to tsx, which says how to fix it", async () => {
    const dir = await project("commonjs", { "say.ts": program("cjs") });
    const r = await runCli(["run", "--quiet", join(dir, "say.ts"), "say"], {
      FLYTE_TS_HOME: home,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Add `"type": "module"`');
    expect(copies(dir)).toEqual([]);
  });
});
