// Known secret values are masked (***) in everything flyte-ts writes or prints — captured output
// (logs.jsonl and the terminal), the report, the run store, the CLI's outputs and errors — while
// the caller still gets the real values and the cache keeps them (`cache show` masks them).
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli, runNode } from "../fixtures/cli/cli-process.js";

const token = "tok-4f1c9e-masked-in-every-file";
const secretEnv = { MASK_TEST_TOKEN: token };

/** Every file under `dir` whose bytes contain `text`. */
function filesHolding(dir: string, text: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => readFileSync(file).includes(text));
}

describe("a run whose tasks print, return and throw a secret", () => {
  let home: string;
  let program: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await ensureBuilt();
    home = await mkdtemp(join(tmpdir(), "flyte-ts-masking-"));
    program = await runNode(
      ["--import", "tsx", "test/fixtures/processes/secrets.ts"],
      { ...secretEnv, FLYTE_TS_HOME: home },
      120_000,
    );
  });

  it("gives the caller the real values", () => {
    expect(program.code).toBe(0);
    expect(program.stdout).toContain(`caller got: {"outputs":[{"n":1,"token":"${token}"`);
  });

  it("echoes the tasks' output to the terminal with the secret masked", () => {
    const echoed = program.stdout.split("\n").filter((line) => !line.startsWith("caller got:"));
    expect(echoed.join("\n")).toContain("the token is ***");
    expect(echoed.join("\n")).not.toContain(token);
    expect(program.stderr).toContain("stderr has *** too");
    expect(program.stderr).not.toContain(token);
  });

  it("writes no file but the cache with the secret in it: logs, report and run store are masked", () => {
    const holding = filesHolding(home, token).map((f) => f.slice(home.length + 1));
    expect(holding.every((f) => f.startsWith("cache.db") || f.startsWith("blobs/"))).toBe(true);
    const logs = readFileSync(join(home, "runs", "leaky", "logs.jsonl"), "utf8");
    expect(logs).toContain("the token is ***");
    expect(readFileSync(join(home, "runs", "leaky", "report.html"), "utf8")).toContain(
      "could not authenticate with ***",
    );
  });

  it("keeps the real value in the cache, and `cache show` masks it", async () => {
    expect(filesHolding(home, token).some((f) => f.includes("cache.db"))).toBe(true);
    const ls = await runCli(["cache", "ls", "--json"], { FLYTE_TS_HOME: home });
    const entries = JSON.parse(ls.stdout) as { key: string; task: string }[];
    const entry = entries.find((e) => e.task === "leaky-thread.prints");
    const shown = await runCli(["cache", "show", entry?.key as string], { FLYTE_TS_HOME: home });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('"token": "***"');
    expect(shown.stdout).not.toContain(token);
  });
});

describe("flyte-ts run of a task that returns and throws a secret", () => {
  it("prints the output and the error with the secret masked", async () => {
    const home = await mkdtemp(join(tmpdir(), "flyte-ts-masking-cli-"));
    const env = { ...secretEnv, FLYTE_TS_HOME: home };
    const fixture = "test/fixtures/processes/secrets.ts";
    const [returned, thrown] = await Promise.all([
      runCli(["run", "--quiet", "--logs", fixture, "threadPrints", "--n", "3"], env),
      runCli(["run", "--quiet", fixture, "processThrows"], env),
    ]);
    expect(returned.code).toBe(0);
    expect(returned.stdout).toContain('"token": "***"');
    expect(`${returned.stdout}${returned.stderr}`).not.toContain(token);
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toContain("could not authenticate with ***");
    expect(thrown.stderr).not.toContain(token);
  });
});
