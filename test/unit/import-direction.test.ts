// The folders of src/ are pipeline stages; imports go one way, from the command line down to the
// pure definitions, so no stage reaches back into one that uses it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * Each folder's layer. A folder imports only from its own layer or a lower one. `.` is src/'s own
 * files below the barrels (errors.ts, version.ts); the barrels (index.ts, testing.ts) may import
 * anything.
 */
const layers: Record<string, number> = {
  ".": 0,
  internal: 0,
  // Definitions and values: pure, no workers, pools or scheduler.
  api: 1,
  context: 1,
  cache: 1,
  scheduler: 2,
  record: 2,
  execution: 3,
  offload: 4,
  run: 5,
  cli: 6,
};
const barrels = new Set(["index.ts", "testing.ts"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

function folderOf(file: string): string {
  const folder = relative(src, dirname(file));
  return folder === "" ? "." : (folder.split("/")[0] as string);
}

interface Edge {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly specifier: string;
}

function edges(): Edge[] {
  const found: Edge[] = [];
  for (const file of sourceFiles(src)) {
    if (dirname(file) === src.replace(/\/$/, "") && barrels.has(file.split("/").pop() as string)) {
      continue;
    }
    const text = readFileSync(file, "utf8");
    for (const [, specifier] of text.matchAll(/(?:from|import\(?)\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = resolve(dirname(file), specifier as string);
      found.push({
        file: relative(src, file),
        from: folderOf(file),
        to: folderOf(target),
        specifier: specifier as string,
      });
    }
  }
  return found;
}

describe("the direction of imports between src/ folders", () => {
  it("knows every folder's layer", () => {
    const folders = new Set(edges().flatMap((e) => [e.from, e.to]));
    expect([...folders].filter((f) => layers[f] === undefined)).toEqual([]);
  });

  it("imports only from the same layer or a lower one", () => {
    const upward = edges()
      .filter((e) => (layers[e.to] ?? 99) > (layers[e.from] ?? -1))
      .map((e) => `${e.file} imports ${e.specifier} (${e.from} → ${e.to})`);
    expect(upward).toEqual([]);
  });

  it("keeps api/ pure: no worker threads, child processes or pools", () => {
    const impure = sourceFiles(join(src, "api")).filter((file) =>
      /from "node:(worker_threads|child_process)"/.test(readFileSync(file, "utf8")),
    );
    expect(impure).toEqual([]);
  });
});
