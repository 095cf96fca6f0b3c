// A resume replays the stored run's outputs, so it must be the same call: same root task, same
// inputs, same code version. Anything else is refused with an error that names the difference.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-resume-check-"));
const env = new flyte.TaskEnvironment({ name: "resume-check", runtime: "inline" });

let squares = 0;
const square = env.task(async function square(x: number) {
  squares++;
  return x * x;
});
const main = env.task(async function main(n: number) {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => square(i)));
  return all.reduce((a, b) => a + b, 0);
});

async function stored(cacheDir: string, name: string, n: number, version?: string) {
  const run = await flyte
    .withRunContext({ cacheDir, name, ...(version === undefined ? {} : { version }) })
    .run(main, n);
  return run.outputs();
}

describe("resuming a run", () => {
  it("refuses other inputs than the stored run's, naming both", async () => {
    const cacheDir = newHome();
    expect(await stored(cacheDir, "q", 3)).toBe(5);
    const resumed = flyte.withRunContext({ cacheDir, resume: "q" }).run(main, 4);
    await expect(resumed).rejects.toMatchObject({ code: "ResumeMismatch" });
    await expect(resumed).rejects.toThrow(/called with n = 3, not n = 4.*--resume q/);
  });

  it("refuses another root task, naming the stored one", async () => {
    const cacheDir = newHome();
    await stored(cacheDir, "q", 3);
    await expect(flyte.withRunContext({ cacheDir, resume: "q" }).run(square, 7)).rejects.toThrow(
      /run of task `resume-check.main`, not `resume-check.square`/,
    );
  });

  it("refuses another code version, naming both", async () => {
    const cacheDir = newHome();
    await stored(cacheDir, "q", 3, "v1");
    await expect(
      flyte.withRunContext({ cacheDir, resume: "q", version: "v2" }).run(main, 3),
    ).rejects.toThrow(/code version `v1`, this run has `v2`/);
  });

  it("replays the stored run when task, inputs and version match", async () => {
    const cacheDir = newHome();
    await stored(cacheDir, "q", 3, "v1");
    squares = 0;
    const run = await flyte.withRunContext({ cacheDir, resume: "q", version: "v1" }).run(main, 3);
    expect(await run.outputs()).toBe(5);
    expect(squares).toBe(0);
  });

  it("refuses a stored run whose record is damaged, since it cannot tell what it ran", async () => {
    const cacheDir = newHome();
    await stored(cacheDir, "q", 3);
    const db = new Database(join(cacheDir, "runs.db"));
    db.prepare("UPDATE runs SET inputs_hash = 'not-the-hash' WHERE name = 'q'").run();
    db.close();
    await expect(
      flyte.withRunContext({ cacheDir, resume: "q" }).run(main, 3),
    ).rejects.toMatchObject({ code: "RunRecordDamaged" });
  });
});
