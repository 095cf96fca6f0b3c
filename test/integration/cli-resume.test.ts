// `flyte-ts run --resume`: it resumes only the call it stored, and repeats that call exactly when
// no task is given.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "../fixtures/cli/cli-process.js";

const squares = "test/fixtures/cli/squares.ts";
let home: string;
const cli = (...args: string[]) => runCli(["run", "--quiet", ...args], { FLYTE_TS_HOME: home });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "flyte-ts-cli-resume-"));
  await ensureBuilt();
  expect(await cli("--name", "q", squares, "main", "--n", "10")).toMatchObject({
    code: 0,
    stdout: "285\n",
  });
});

afterAll(() => rm(home, { recursive: true, force: true }));

describe("flyte-ts run --resume", () => {
  it("refuses other inputs, naming the stored ones", async () => {
    const r = await cli("--resume", "q", squares, "main", "--n", "20");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/called with n = 10, not n = 20/);
  });

  it("refuses another task", async () => {
    const r = await cli("--resume", "q", squares, "square", "--x", "7");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run of task `cli-squares.main`, not `cli-squares.square`/);
  });

  it("repeats the stored call exactly when given no file and no task", async () => {
    expect(await cli("--resume", "q")).toMatchObject({ code: 0, stdout: "285\n" });
  });

  it("resumes with the same task and inputs", async () => {
    expect(await cli("--resume", "q", squares, "main", "--n", "10")).toMatchObject({
      code: 0,
      stdout: "285\n",
    });
  });
});
