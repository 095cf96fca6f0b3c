// flyte.File inputs: keyed by content, digests remembered by (path, size, mtime) in the process
// and in the cache database.
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { canonicalHash } from "../../../src/cache/canonical.js";
import { forgetDigests, useDigestMemo } from "../../../src/cache/file-digest.js";
import { SqliteCacheStore } from "../../../src/cache/sqlite-cache-store.js";

const dir = mkdtempSync(join(tmpdir(), "flyte-ts-files-"));
const write = (name: string, text: string, mtime = 1_000) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  utimesSync(path, mtime, mtime);
  return flyte.File.fromLocal(path);
};

describe("flyte.File inputs", () => {
  it("key by content: the same bytes at two paths match, an edit does not", () => {
    const a = write("a.txt", "hello");
    const b = write("b.txt", "hello");
    expect(canonicalHash({ data: a })).toBe(canonicalHash({ data: b }));
    const before = canonicalHash(a);
    write("a.txt", "hellO", 2_000);
    expect(canonicalHash(a)).not.toBe(before);
    expect(canonicalHash(a)).not.toBe(canonicalHash({ kind: "flyte.File", path: a.path, x: 1 }));
  });

  it("survive a structured copy (what children receive) as the same key", () => {
    const f = write("copy.txt", "copied");
    expect(canonicalHash(structuredClone(f))).toBe(canonicalHash(f));
  });

  it("do not read an unchanged file again: the digest is remembered by path, size and mtime", () => {
    const f = write("memo.txt", "first");
    const first = canonicalHash(f);
    // Same size and mtime: only a re-read could notice the new bytes.
    write("memo.txt", "fir5t");
    expect(canonicalHash(f)).toBe(first);
  });

  it("remember digests in the cache database for the next process", () => {
    const store = new SqliteCacheStore(mkdtempSync(join(tmpdir(), "flyte-ts-memo-")));
    useDigestMemo(store.digestMemo());
    const f = write("persisted.txt", "persisted");
    const first = canonicalHash(f);
    write("persisted.txt", "pers1sted");
    forgetDigests();
    expect(canonicalHash(f)).toBe(first);
    useDigestMemo(undefined);
    forgetDigests();
    expect(canonicalHash(f)).not.toBe(first);
  });

  it("refuse a missing file with a message naming it", () => {
    expect(() =>
      canonicalHash({ input: flyte.File.fromLocal(join(dir, "nope.csv")) }, "inputs"),
    ).toThrow(/`inputs\.input` is the file .*nope\.csv, which cannot be read/);
  });

  it("make a cached task run again only when the file's content changes", async () => {
    const env = new flyte.TaskEnvironment({ name: "files", cache: "auto", runtime: "inline" });
    let reads = 0;
    const size = env.task(async function size(data: flyte.File) {
      reads++;
      return data.path.length;
    });
    const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-files-run-"));
    const f = write("input.csv", "a,b\n1,2\n");
    await flyte.withRunContext({ cacheDir }).run(size, f);
    await flyte.withRunContext({ cacheDir }).run(size, f);
    expect(reads).toBe(1);
    write("input.csv", "a,b\n1,3\n", 3_000);
    await flyte.withRunContext({ cacheDir }).run(size, f);
    expect(reads).toBe(2);
  });
});
