// `flyte-ts run` and friends, driven through the real bin in child processes.
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, test } from "vitest";
import { version } from "../../src/version.js";
import { binPath, ensureBuilt, runCli, runNode } from "../fixtures/cli/cli-process.js";
import { storedRun } from "../fixtures/stored-run.js";

const tasks = "test/fixtures/cli/tasks.ts";
let home: string;
const cli = (...args: string[]) => runCli(args, { FLYTE_TS_HOME: home });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-cli-"));
  await ensureBuilt();
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe.concurrent("flyte-ts run", () => {
  test("binds --param flags to the task's parameters and prints the output", async ({ expect }) => {
    const r = await cli("run", tasks, "plus", "--a", "2", "--b", "40");
    expect(r).toMatchObject({ code: 0, stdout: "42\n" });
  });

  test("leaves out an optional parameter so its default applies", async ({ expect }) => {
    const r = await cli("run", tasks, "plus", "--a", "2");
    expect(r.stdout).toBe("3\n");
  });

  test("reads values as JSON when they parse, as strings otherwise, and a bare flag as true", async ({
    expect,
  }) => {
    const r = await cli(
      "run",
      tasks,
      "echo",
      "--value",
      '{"xs":[1,2],"n":null}',
      "--label",
      "hello world",
      '--quoted="10"',
      "--dry-run",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      value: { xs: [1, 2], n: null },
      label: "hello world",
      quoted: "10",
      dryRun: true,
    });
  });

  test("finds a task by its function name or its full name as well as its export name", async ({
    expect,
  }) => {
    const [byFunction, byFullName] = await Promise.all([
      cli("run", tasks, "add", "--a", "1"),
      cli("run", tasks, "cli-fixture.add", "--a", "5"),
    ]);
    expect(byFunction.stdout).toBe("2\n");
    expect(byFullName.stdout).toBe("6\n");
  });

  test("prints BigInt, Set and Map outputs as readable JSON", async ({ expect }) => {
    const r = await cli("run", tasks, "collections");
    expect(JSON.parse(r.stdout)).toEqual({
      big: "1180591620717411303424",
      set: [1, 2],
      map: { a: 1 },
    });
  });

  test("lists the module's tasks when the task is unknown, and exits 2", async ({ expect }) => {
    const r = await cli("run", tasks, "nope");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`No task \`nope\` in ${tasks}`);
    for (const line of ["plus", "cli-fixture.add(a, b?)", "echo", "collections", "fail"]) {
      expect(r.stderr).toContain(line);
    }
  });

  test("lists the task's parameters with their types when a flag is unknown or a required one is missing", async ({
    expect,
  }) => {
    const r = await cli("run", tasks, "plus", "--c", "1");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown parameter --c. Did you mean `--a` or `--b`?");
    expect(r.stderr).toContain("missing required parameter --a (number)");
    expect(r.stderr).toMatch(/--a\s+number\s+required/);
    expect(r.stderr).toMatch(/--b\s+number\s+default 1/);
  });

  test("refuses a value that does not fit its parameter's type before running anything, and exits 2", async ({
    expect,
  }) => {
    const [word, json, bare] = await Promise.all([
      cli("run", "examples/quickstart.ts", "main", "--n", "ten"),
      cli("run", "test/fixtures/cli/typed.ts", "texts", "--texts", '["a b"', "--limit", "null"),
      cli("run", "test/fixtures/cli/typed.ts", "train", "--lr"),
    ]);
    expect(word).toMatchObject({ code: 2, stdout: "" });
    expect(word.stderr).toMatch(/--n expects a number, got "ten"/);
    expect(word.stderr).not.toMatch(/run \S+ started/);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(
      /--texts expects string\[\] \(JSON array\), but .* is not valid JSON/,
    );
    expect(bare.stderr).toMatch(
      /--lr needs a value: number \(a flag with no value is only for booleans\)/,
    );
  });

  test("lists a file's tasks with their parameters, types and defaults for run <file> --help", async ({
    expect,
  }) => {
    const r = await cli("run", "test/fixtures/cli/typed.ts", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}train \(typed\.train\) — Trains a model\.$/m);
    expect(r.stdout).toMatch(/^ {4}--lr\s+number\s+required$/m);
    expect(r.stdout).toMatch(/^ {4}--mode\s+"fast" \| "slow"\s+default "fast"$/m);
    expect(r.stdout).toMatch(/^ {4}--layers\s+number\[\] \(JSON array\)\s+default \[64, 32\]$/m);
    const one = await cli("run", "test/fixtures/cli/typed.ts", "train", "--help");
    expect(one.stdout).toMatch(/--verbose\s+boolean\s+default false/);
  });

  test("prints a failed task's error class, code and message, without a stack, and exits 1", async ({
    expect,
  }) => {
    const r = await cli("run", tasks, "fail");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("RuntimeUserError [QuotaError]: quota exceeded for project demo");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test("prints the stack of a failure with --verbose", async ({ expect }) => {
    const r = await cli("run", tasks, "fail", "--verbose");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at .*tasks\.ts/m);
  });

  test("names the run with --name and writes its record under --cache-dir", async ({ expect }) => {
    const cacheDir = join(home, "named");
    const r = await cli(
      "run",
      "--name",
      "cli-named-run",
      tasks,
      "plus",
      "--a",
      "1",
      "--cache-dir",
      cacheDir,
    );
    expect(r.stdout).toBe("2\n");
    expect(storedRun(cacheDir, "cli-named-run")?.status).toBe("succeeded");
  });

  test("runs a task from a plain JavaScript module", async ({ expect }) => {
    const r = await cli(
      "run",
      "test/fixtures/cli/plain.js",
      "greet",
      "--who",
      "flyte",
      "--times",
      "2",
    );
    expect(r).toMatchObject({ code: 0, stdout: "hello flyte, hello flyte\n" });
  });

  test("exits 2 when the file does not exist", async ({ expect }) => {
    const r = await cli("run", "test/fixtures/cli/missing.ts", "main");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("File test/fixtures/cli/missing.ts does not exist");
  });
});

describe.concurrent("flyte-ts", () => {
  test("prints the usage with --help", async ({ expect }) => {
    const [main, run] = await Promise.all([cli("--help"), cli("run", "--help")]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("Usage: flyte-ts <command>");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: flyte-ts run");
    expect(run.stdout).toContain("--cache-dir <dir>");
  });

  test("prints flyte.version with --version", async ({ expect }) => {
    const r = await cli("--version");
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  test("exits 2 with the usage when no command is given", async ({ expect }) => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: flyte-ts <command>");
  });

  test("says to build the package when dist is missing", async ({ expect }) => {
    const bin = join(home, "unbuilt", "bin", "flyte-ts.js");
    await mkdir(join(home, "unbuilt", "bin"), { recursive: true });
    await copyFile(binPath, bin);
    const r = await runNode([bin, "--version"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("npm run build");
  });
});
