// Code bundles never carry secrets or stores: `.gitignore` applies to "all" bundles, the flyte
// folder in use is left out wherever it is, and `.env` files only go in when named.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeBundle } from "../../../src/offload/bundle.js";
import { parseGitignore } from "../../../src/offload/bundle-filter.js";

const secret = "sk-planted-0123456789abcdef";
let root: string;

function put(path: string, text: string): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "flyte-bundle-secrets-"));
  put("package.json", '{"type":"module"}\n');
  put("src/app.ts", 'export const app = "app";\n');
  put(".gitignore", "*.log\nbuild/\n!build/keep.txt\n/secret-notes.md\ndata/**/*.bin\n");
  put("debug.log", secret);
  put("build/out.js", secret);
  put("secret-notes.md", secret);
  put("docs/secret-notes.md", "kept: only the root's is ignored\n");
  put("data/a/b/blob.bin", secret);
  put("data/a/readme.txt", "kept\n");
  put(".env", `API_KEY=${secret}\n`);
  put(".env.production", `API_KEY=${secret}\n`);
  put("config/.env.local", `API_KEY=${secret}\n`);
  put("flyte-home/secrets.env", `API_KEY=${secret}\n`);
  put("flyte-home/cache.db", secret);
  put("flyte-home/runs.db", secret);
  put(".flyte/cache.db", secret);
  put("nested/.gitignore", "generated.ts\n");
  put("nested/generated.ts", secret);
  put("nested/kept.ts", "export {};\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const bundleAll = (options: { include?: string[] } = {}) =>
  writeBundle({
    copyStyle: "all",
    modules: [],
    root,
    dir: join(root, "out"),
    home: join(root, "flyte-home"),
    ...options,
  });

describe('a copyStyle "all" bundle', () => {
  it("carries no planted secret: .gitignore'd files, .env files and the flyte folder stay out", async () => {
    const bundle = await bundleAll();
    expect(bundle?.files).toEqual([
      ".gitignore",
      "data/a/readme.txt",
      "docs/secret-notes.md",
      "nested/.gitignore",
      "nested/kept.ts",
      "package.json",
      "src/app.ts",
    ]);
    const tar = gunzipSync(readFileSync(bundle?.file as string));
    expect(tar.includes(secret)).toBe(false);
  });

  it("never carries the flyte folder FLYTE_TS_HOME points at, wherever it is", async () => {
    const previous = process.env.FLYTE_TS_HOME;
    process.env.FLYTE_TS_HOME = join(root, "flyte-home");
    try {
      const bundle = await writeBundle({
        copyStyle: "all",
        modules: [],
        root,
        dir: join(root, "out"),
      });
      expect(bundle?.files.some((f) => f.startsWith("flyte-home/"))).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.FLYTE_TS_HOME;
      else process.env.FLYTE_TS_HOME = previous;
    }
  });

  it("carries a .env file only when it is named in include", async () => {
    const bundle = await bundleAll({ include: [".env.production"] });
    expect(bundle?.files).toContain(".env.production");
    expect(bundle?.files).not.toContain(".env");
  });
});

describe(".gitignore patterns", () => {
  const ignores = (patterns: string, path: string) => {
    let ignored = false;
    for (const rule of parseGitignore(patterns))
      if (rule.pattern.test(path)) ignored = !rule.negated;
    return ignored;
  };

  it("follow git: unanchored names match at any depth, a slash anchors, ** spans folders, ! re-includes", () => {
    expect(ignores("*.log", "a/b/c.log")).toBe(true);
    expect(ignores("/top.txt", "a/top.txt")).toBe(false);
    expect(ignores("/top.txt", "top.txt")).toBe(true);
    expect(ignores("docs/*.md", "docs/a.md")).toBe(true);
    expect(ignores("docs/*.md", "docs/x/a.md")).toBe(false);
    expect(ignores("**/cache", "a/b/cache")).toBe(true);
    expect(ignores("logs/**", "logs/a/b")).toBe(true);
    expect(ignores("a/**/z", "a/z")).toBe(true);
    expect(ignores("a/**/z", "a/b/c/z")).toBe(true);
    expect(ignores("*.txt\n!keep.txt", "keep.txt")).toBe(false);
    expect(ignores("file[0-9].txt", "file7.txt")).toBe(true);
    expect(ignores("\\#hash", "#hash")).toBe(true);
    expect(ignores("# a comment", "# a comment")).toBe(false);
  });
});
