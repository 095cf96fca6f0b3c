// flyte.Dir inputs: keyed by the relative paths and contents of everything under the directory,
// each file's digest remembered by (path, size, mtime) like flyte.File's.
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { canonicalHash } from "../../../src/cache/canonical.js";
import { RuntimeDataValidationError } from "../../../src/errors.js";
import { readInputs, writeInputs } from "../../../src/offload/io.js";

const newDir = () => mkdtempSync(join(tmpdir(), "flyte-ts-dirs-"));

/** Writes `files` (relative path → text) under a new directory, all with the same mtime. */
function tree(files: Record<string, string>, root = newDir()): flyte.Dir {
  for (const [name, text] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    utimesSync(path, 1_000, 1_000);
  }
  return flyte.Dir.fromLocal(root);
}

describe("flyte.Dir inputs", () => {
  it("key by content: the same tree at two paths matches", () => {
    const files = { "a.txt": "alpha", "sub/b.txt": "beta", "sub/deeper/c.bin": "gamma" };
    expect(canonicalHash({ data: tree(files) })).toBe(canonicalHash({ data: tree(files) }));
  });

  it("change the key when one byte of one file, a name, or the set of files changes", () => {
    const files = { "a.txt": "alpha", "sub/b.txt": "beta" };
    const base = canonicalHash(tree(files));
    expect(canonicalHash(tree({ ...files, "sub/b.txt": "bete" }))).not.toBe(base);
    expect(canonicalHash(tree({ "a.txt": "alpha", "sub/c.txt": "beta" }))).not.toBe(base);
    expect(canonicalHash(tree({ "a.txt": "alpha", "b.txt": "beta" }))).not.toBe(base);
    expect(canonicalHash(tree({ ...files, "x.txt": "" }))).not.toBe(base);
    // A plain object that only looks like a Dir is hashed as an object.
    const dir = tree(files);
    expect(canonicalHash({ ...dir, extra: 1 })).not.toBe(canonicalHash(dir));
  });

  it("count empty directories: adding one changes the key", () => {
    const dir = tree({ "a.txt": "alpha" });
    const before = canonicalHash(dir);
    mkdirSync(join(dir.path, "empty"));
    expect(canonicalHash(dir)).not.toBe(before);
  });

  it("read again only the file whose mtime changed; the others come from the digest memo", () => {
    const dir = tree({ "touched.txt": "same", "kept.txt": "kept" });
    const first = canonicalHash(dir);
    // `touched.txt` gets a new mtime, same bytes: read again, same digest.
    utimesSync(join(dir.path, "touched.txt"), 2_000, 2_000);
    // `kept.txt` changes with its size and mtime kept: only a re-read could notice.
    writeFileSync(join(dir.path, "kept.txt"), "k3pt");
    utimesSync(join(dir.path, "kept.txt"), 1_000, 1_000);
    expect(canonicalHash(dir)).toBe(first);
  });

  it("follow symbolic links: a link counts as what it points to", () => {
    const target = tree({ "data.csv": "1,2,3" });
    const linked = newDir();
    symlinkSync(join(target.path, "data.csv"), join(linked, "data.csv"));
    expect(canonicalHash(flyte.Dir.fromLocal(linked))).toBe(canonicalHash(target));
    const cyclic = tree({ "a.txt": "a" });
    symlinkSync(cyclic.path, join(cyclic.path, "loop"));
    expect(() => canonicalHash(cyclic)).toThrow(/loop is a symbolic link to .*, which contains it/);
  });

  it("refuse a path that is not a directory with an error naming it", () => {
    const root = newDir();
    writeFileSync(join(root, "file.txt"), "x");
    const notDir = flyte.Dir.fromLocal(join(root, "file.txt"));
    expect(() => canonicalHash({ images: notDir }, "inputs")).toThrow(RuntimeDataValidationError);
    expect(() => canonicalHash({ images: notDir }, "inputs")).toThrow(
      /`inputs\.images` is the directory .*file\.txt, whose content cannot be hashed: .*file\.txt is not a directory\. Pass flyte\.Dir\.fromLocal\(\) the path of a readable directory\./,
    );
    expect(() => canonicalHash(flyte.Dir.fromLocal(join(root, "missing")))).toThrow(
      /missing cannot be read/,
    );
    expect(() => flyte.Dir.fromLocal("" as string)).toThrow(TypeError);
  });

  it("cross to workers and offloaded jobs unchanged: a structured copy and an inputs file keep it a Dir with the same key", async () => {
    const dir = tree({ "a.txt": "alpha" });
    expect(canonicalHash(structuredClone(dir))).toBe(canonicalHash(dir));
    const file = join(newDir(), "inputs.v8");
    await writeInputs(file, { args: [dir], customContext: {} });
    const [read] = (await readInputs(file)).args;
    expect(flyte.Dir.is(read)).toBe(true);
    expect(read).toEqual(dir);
  });
});
