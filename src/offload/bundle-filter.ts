/**
 * What a code bundle may never carry, and what `.gitignore` keeps out of a `copyStyle: "all"`
 * bundle. Never: `node_modules`, `.git`, `.flyte` folders, the flyte folder in use
 * (`FLYTE_TS_HOME` or `cacheDir`, wherever it is, with its cache, runs and `secrets.env`), the
 * bundle's own output folder, `secrets.env` files, and `.env` / `.env.*` files unless they are
 * named explicitly.
 * @module
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

/** Folder names that are never bundled. */
const neverFolders = new Set(["node_modules", ".git", ".flyte"]);

/** Whether a file name is one that holds secrets: `.env`, `.env.local`, `secrets.env`. */
export function isSecretsFileName(name: string): boolean {
  return name === ".env" || name.startsWith(".env.") || name === "secrets.env";
}

/** What {@link BundleFilter} leaves out besides the fixed rules. */
export interface BundleFilterOptions {
  /** The folder whose files are bundled. */
  readonly root: string;
  /** Absolute folders never bundled: the flyte folder in use, the bundle's output folder. */
  readonly excludedFolders: readonly string[];
  /** Files (relative to the root, `/`-separated) bundled even though they hold secrets by name. */
  readonly include: readonly string[];
  /** Whether `.gitignore` files (the root's and every folder's) apply. */
  readonly gitignore: boolean;
}

interface Rule {
  /** The folder the `.gitignore` is in, relative to the root, `/`-separated (`""` for the root). */
  readonly base: string;
  readonly pattern: RegExp;
  readonly negated: boolean;
  readonly folderOnly: boolean;
}

/** Decides, folder by folder, which files go into a bundle. */
export class BundleFilter {
  readonly #root: string;
  readonly #excluded: ReadonlySet<string>;
  readonly #include: ReadonlySet<string>;
  readonly #gitignore: boolean;
  readonly #rules = new Map<string, readonly Rule[]>();

  constructor(options: BundleFilterOptions) {
    this.#root = resolve(options.root);
    this.#excluded = new Set(options.excludedFolders.map((folder) => resolve(folder)));
    this.#include = new Set(options.include);
    this.#gitignore = options.gitignore;
  }

  /** Whether the folder at `path` (relative to the root, `/`-separated) may be entered. */
  keepsFolder(path: string): boolean {
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (neverFolders.has(name)) return false;
    if (this.#excluded.has(join(this.#root, ...path.split("/")))) return false;
    return !this.#ignored(path, true);
  }

  /** Whether the file at `path` (relative to the root, `/`-separated) is bundled. */
  keepsFile(path: string): boolean {
    if (this.#include.has(path)) return true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (isSecretsFileName(name)) return false;
    return !this.#ignored(path, false);
  }

  /** Whether an explicitly named file (a task module, an import) may still be bundled. */
  keepsNamedFile(path: string): boolean {
    if (this.#include.has(path)) return true;
    const parts = path.split("/");
    const name = parts.at(-1) ?? "";
    if (isSecretsFileName(name) && !name.startsWith(".env")) return false;
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join("/");
      if (neverFolders.has(parts[i - 1] ?? "")) return false;
      if (this.#excluded.has(join(this.#root, ...folder.split("/")))) return false;
    }
    return true;
  }

  /** The last matching `.gitignore` rule of the path's folders decides, as in git. */
  #ignored(path: string, folder: boolean): boolean {
    if (!this.#gitignore) return false;
    const parts = path.split("/");
    let ignored = false;
    for (let depth = 0; depth < parts.length; depth++) {
      const base = parts.slice(0, depth).join("/");
      const inside = parts.slice(depth).join("/");
      for (const rule of this.#rulesOf(base)) {
        if (rule.folderOnly && !folder) continue;
        if (rule.pattern.test(inside)) ignored = !rule.negated;
      }
    }
    return ignored;
  }

  #rulesOf(base: string): readonly Rule[] {
    let rules = this.#rules.get(base);
    if (rules === undefined) {
      let text = "";
      try {
        text = readFileSync(join(this.#root, ...base.split("/"), ".gitignore"), "utf8");
      } catch {
        // No .gitignore in this folder.
      }
      rules = parseGitignore(text, base);
      this.#rules.set(base, rules);
    }
    return rules;
  }
}

/** The rules of one `.gitignore` (git's pattern format), for paths relative to its folder. */
export function parseGitignore(text: string, base = ""): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    let negated = false;
    if (line.startsWith("!")) {
      negated = true;
      line = line.slice(1);
    } else if (line.startsWith("\\!") || line.startsWith("\\#")) line = line.slice(1);
    let folderOnly = false;
    if (line.endsWith("/")) {
      folderOnly = true;
      line = line.slice(0, -1);
    }
    if (line === "") continue;
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    const body = globToRegExp(line);
    rules.push({
      base,
      pattern: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`),
      negated,
      folderOnly,
    });
  }
  return rules;
}

function globToRegExp(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      const before = i === 0 || glob[i - 1] === "/";
      const after = glob[i + 2] === "/" || i + 2 === glob.length;
      if (before && after) {
        if (glob[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
        continue;
      }
    }
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\" && i + 1 < glob.length) out += escapeRegExp(glob[++i] as string);
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) out += "\\[";
      else {
        let set = glob.slice(i + 1, close);
        if (set.startsWith("!")) set = `^${set.slice(1)}`;
        out += `[${set.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else out += escapeRegExp(c);
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** `path` relative to `root`, `/`-separated. */
export function relativePosix(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
