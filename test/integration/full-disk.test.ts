// A full disk never fails a run whose tasks succeeded: the results reach the caller, what could
// not be written is named in one warning, output that could not be logged is still shown, no
// temporary file is left, and both databases stay intact. On a real 2 MB tmpfs (needs root).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runNode } from "../fixtures/cli/cli-process.js";

const mountPoint = mkdtempSync(join(tmpdir(), "flyte-ts-full-disk-"));
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], { stdio: "ignore" });
  mounted = true;
} catch {
  console.warn(
    "full-disk tests skipped: mounting a tmpfs is not allowed here (they need root, as in CI).",
  );
}

afterAll(() => {
  if (mounted) execFileSync("umount", [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

let homes = 0;
function program(args: string[]) {
  const home = join(mountPoint, `home-${homes++}`);
  return {
    home,
    done: runNode(
      ["--import", "tsx", "test/fixtures/processes/full-disk.ts", ...args],
      { FLYTE_TS_HOME: home },
      120_000,
    ),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function intact(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma("integrity_check", { simple: true }) as string;
  } finally {
    db.close();
  }
}

const notWritten = /could not be written/;

/** Fills the tmpfs to its last byte; returns the file to remove to free it. */
function fill(): string {
  const filler = join(mountPoint, "filler");
  try {
    writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
  } catch {
    // ENOSPC: it is full now, which is what was asked.
  }
  return filler;
}

describe.skipIf(!mounted)("a full disk", () => {
  beforeAll(ensureBuilt);

  it("returns every result of a run whose outputs do not fit, naming what was not recorded once", async () => {
    const { home, done } = program(["12", "300000"]);
    const r = await done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([...Array(10).fill(300_002), 300_003, 300_003]);
    const warnings = r.stderr.split("\n").filter((line) => notWritten.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cache entries/);
    expect(warnings[0]).toMatch(/no space left on device|disk is full/);
    expect(filesUnder(home).filter((f) => f.includes(".tmp"))).toEqual([]);
    expect(intact(join(home, "cache.db"))).toBe("ok");
    expect(intact(join(home, "runs.db"))).toBe("ok");
  });

  it("still shows task output that could not be logged, and does not crash", async () => {
    const filler = fill();
    try {
      const { home, done } = program(["12", "1000", "print"]);
      const r = await done;
      expect(r.code).toBe(0);
      for (let i = 0; i < 12; i++) expect(r.stdout).toContain(`line ${i} line ${i}`);
      expect(r.stdout.trim().split("\n").at(-1)).toBe(
        JSON.stringify([...Array(10).fill(1002), 1003, 1003]),
      );
      expect(r.stderr.split("\n").filter((line) => notWritten.test(line))).toHaveLength(1);
      expect(filesUnder(mountPoint).filter((f) => f.includes(".tmp"))).toEqual([]);
      rmSync(home, { recursive: true, force: true });
    } finally {
      rmSync(filler);
    }
  });

  it("runs while the disk is already full, and records again once space is freed", async () => {
    const filler = fill();
    const full = program(["3", "1000"]);
    const r = await full.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([1002, 1002, 1002]);
    expect(r.stderr.split("\n").filter((line) => notWritten.test(line))).toHaveLength(1);
    expect(filesUnder(mountPoint).filter((f) => f.includes(".tmp"))).toEqual([]);
    rmSync(filler);
    // Other homes of this file hold what they wrote; this one starts empty and has the space now.
    for (let i = 0; i < homes - 1; i++)
      rmSync(join(mountPoint, `home-${i}`), { recursive: true, force: true });
    const again = await runNode(
      ["--import", "tsx", "test/fixtures/processes/full-disk.ts", "3", "1000"],
      { FLYTE_TS_HOME: full.home },
      120_000,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(notWritten);
    const db = new Database(join(full.home, "cache.db"), { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM entries").get()).toEqual({ n: 3 });
    db.close();
  });
});
