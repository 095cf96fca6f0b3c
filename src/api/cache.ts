/**
 * How a task's results are cached: {@link Cache}, its behaviours, and the {@link CachePolicy}
 * that derives the cache version from the task's code ({@link FunctionBodyPolicy}).
 * @module
 */
import { type ConfigProblem, InvalidConfigError } from "../errors.js";
import { sha256Hex } from "../internal/hash.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";

/** The cache behaviours flyte defines. `"enabled"` is an alias of `"auto"`. */
export const CACHE_BEHAVIORS = ["auto", "override", "disable", "enabled"] as const;

/**
 * Whether and how a task is cached.
 * - `"auto"`: cache on; the version comes from the policies (by default the function's source).
 * - `"override"`: cache on; meant to be used with `versionOverride`.
 * - `"disable"`: no caching.
 * - `"enabled"`: same as `"auto"`.
 */
export type CacheBehavior = (typeof CACHE_BEHAVIORS)[number];

/** Other spellings accepted, case-insensitively, for a behaviour (as upstream's later versions do). */
export const CACHE_BEHAVIOR_ALIASES = {
  enable: "auto",
  enabled: "auto",
  on: "auto",
  true: "auto",
  yes: "auto",
  off: "disable",
  false: "disable",
  no: "disable",
  none: "disable",
} as const;

/** A spelling accepted for a behaviour, such as `"on"` or `"off"`. */
export type CacheBehaviorAlias = keyof typeof CACHE_BEHAVIOR_ALIASES;

/** A behaviour after aliases are resolved. */
export type NormalizedCacheBehavior = "auto" | "override" | "disable";

/** What a {@link CachePolicy} may look at to compute a version. */
export interface VersionParameters {
  /** The task's function; `undefined` for tasks that are not plain functions. */
  readonly func?: Function;
  /**
   * The function's text as written in its module, when the engine found it (through the
   * module's source map: under tsx, `func.toString()` is esbuild's output, not what you wrote).
   */
  readonly source?: string;
}

/**
 * Computes one part of a task's cache version. Must be pure: the same inputs give the same string.
 *
 * @example
 * ```ts
 * const gitPolicy: flyte.CachePolicy = { getVersion: (salt) => `${process.env.GIT_SHA}${salt}` };
 * new flyte.Cache({ behavior: "auto", policies: [new flyte.FunctionBodyPolicy(), gitPolicy] });
 * ```
 */
export interface CachePolicy {
  /** Returns this policy's digest for `params`, mixed with `salt`. */
  getVersion(salt: string, params: VersionParameters): string;
}

/** Keywords after which a `/` starts a regular expression, not a division (for source scanners). */
export const regexAfterWords: ReadonlySet<string> = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

const isWordChar = (c: string | undefined): boolean =>
  c !== undefined && /[\w$\\\u0080-\uffff]/.test(c);
/** Whether dropping the whitespace between `a` and `b` could fuse two tokens into one. */
function needsSpace(a: string | undefined, b: string | undefined): boolean {
  if (isWordChar(a) && isWordChar(b)) return true;
  if (a === b && (a === "+" || a === "-")) return true;
  return a === "/" && (b === "/" || b === "*");
}

/** End (exclusive) of the quoted string starting at `start`. */
function scanString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

/** End (exclusive) of a template chunk starting at a backtick or at the `}` closing a `${`. */
function scanTemplate(text: string, start: number): { end: number; opensExpression: boolean } {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === "`") return { end: i + 1, opensExpression: false };
    else if (text[i] === "$" && text[i + 1] === "{") return { end: i + 2, opensExpression: true };
    else i += 1;
  }
  return { end: text.length, opensExpression: false };
}

/** End (exclusive) of the regular expression literal (flags included) starting at `start`. */
function scanRegex(text: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < text.length && text[i] !== "\n") {
    const c = text[i];
    if (c === "\\") i += 1;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) break;
    i += 1;
  }
  i += 1;
  while (i < text.length && isWordChar(text[i])) i += 1;
  return i;
}

/**
 * Strips comments and collapses whitespace in JavaScript source, leaving string, template and
 * regular-expression literals untouched, so that reformatting or re-indenting a function does not
 * change its text. Whitespace is kept (as one space) only where removing it would fuse two tokens.
 *
 * @example
 * ```ts
 * normalizeSource("function f(a) {\n  // double\n  return a * 2;\n}"); // "function f(a){return a*2;}"
 * ```
 */
export function normalizeSource(source: string): string {
  let out = "";
  let pendingSpace = false;
  // What the last token was, to tell a regular expression from a division.
  let previous = "";
  // One counter of open braces per template `${` we are inside.
  const templateDepths: number[] = [];
  const emit = (chunk: string, token: string): void => {
    if (pendingSpace && needsSpace(out[out.length - 1], chunk[0])) out += " ";
    pendingSpace = false;
    out += chunk;
    previous = token;
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    let end = i + 1;
    if (/\s/.test(c)) {
      pendingSpace = true;
    } else if (c === "/" && next === "/") {
      end = source.indexOf("\n", i);
      end = end === -1 ? source.length : end;
      pendingSpace = true;
    } else if (c === "/" && next === "*") {
      end = source.indexOf("*/", i + 2);
      end = end === -1 ? source.length : end + 2;
      pendingSpace = true;
    } else if (c === "'" || c === '"') {
      end = scanString(source, i);
      emit(source.slice(i, end), "literal");
    } else if (c === "`" || (c === "}" && templateDepths.at(-1) === 0)) {
      if (c === "}") templateDepths.pop();
      const chunk = scanTemplate(source, i);
      end = chunk.end;
      if (chunk.opensExpression) templateDepths.push(0);
      emit(source.slice(i, end), chunk.opensExpression ? "(" : "literal");
    } else if (
      c === "/" &&
      (previous === "" ||
        (!isWordChar(previous[0]) && !")]}".includes(previous)) ||
        regexAfterWords.has(previous))
    ) {
      end = scanRegex(source, i);
      emit(source.slice(i, end), "literal");
    } else if (isWordChar(c)) {
      while (end < source.length && isWordChar(source[end])) end += 1;
      const word = source.slice(i, end);
      emit(word, /^\d/.test(word) ? "literal" : word);
    } else {
      const depth = templateDepths.length - 1;
      if (depth >= 0 && c === "{") templateDepths[depth] = (templateDepths[depth] ?? 0) + 1;
      if (depth >= 0 && c === "}") templateDepths[depth] = (templateDepths[depth] ?? 1) - 1;
      emit(c, c);
    }
    i = end;
  }
  return out;
}

/**
 * The default cache policy: the version changes when the task function's code changes. It hashes
 * the function's source as written (`params.source`, read from the module through its source
 * map; else `fn.toString()`), normalised by {@link normalizeSource}, with the salt, so comments,
 * whitespace and indentation do not matter, while any edit to the body, the parameters, their
 * types or the name does. Edits to functions it *calls* do not change it; add a salt or a
 * `versionOverride` when they should.
 *
 * @example
 * ```ts
 * new flyte.Cache({ behavior: "auto", policies: [new flyte.FunctionBodyPolicy()] });
 * ```
 */
export class FunctionBodyPolicy implements CachePolicy {
  /**
   * Hex SHA-256 of the normalised source of `params.func` (`params.source` when given) and
   * `salt`; `""` when there is no function.
   * @throws Error when the function's source cannot be read (a bound or native function)
   */
  getVersion(salt: string, params: VersionParameters): string {
    if (params.func === undefined) return "";
    const source = params.source ?? Function.prototype.toString.call(params.func);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new Error(
        `The source of function \`${params.func.name || "(anonymous)"}\` cannot be read (it is bound or native). Pass the unbound function, or set \`versionOverride\`.`,
      );
    }
    return sha256Hex(`${normalizeSource(source)}\u0000${salt}`);
  }
}

/** Options of {@link Cache}. */
export interface CacheOptions {
  /** Whether and how to cache; see {@link CacheBehavior}. Aliases such as `"on"` are accepted. */
  behavior: CacheBehavior | CacheBehaviorAlias;
  /** A fixed cache version used instead of the policies. Change it to invalidate old results. */
  versionOverride?: string;
  /**
   * Run identical concurrent calls (same cache key) once: the others wait and share the result.
   * @default false
   */
  serialize?: boolean;
  /** Names of inputs left out of the cache key. @default [] */
  ignoredInputs?: string | readonly string[];
  /** Mixed into every policy's digest; change it to invalidate old results. @default "" */
  salt?: string;
  /** What the version is derived from. @default [new FunctionBodyPolicy()] */
  policies?: CachePolicy | readonly CachePolicy[];
}

/** Anything a task's `cache` option accepts: a behaviour, a {@link Cache}, or its options. */
export type CacheRequest = CacheBehavior | CacheBehaviorAlias | Cache | CacheOptions;

const cacheKeys = ["behavior", "versionOverride", "serialize", "ignoredInputs", "salt", "policies"];

function normalizeBehavior(problems: Problems, behavior: unknown): NormalizedCacheBehavior {
  const lower = typeof behavior === "string" ? behavior.trim().toLowerCase() : undefined;
  if (lower === "auto" || lower === "override" || lower === "disable") return lower;
  if (lower !== undefined && Object.hasOwn(CACHE_BEHAVIOR_ALIASES, lower)) {
    return CACHE_BEHAVIOR_ALIASES[lower as CacheBehaviorAlias];
  }
  problems.add(
    "behavior",
    `Invalid cache behavior: expected \`behavior\` to be "auto", "override" or "disable" (or an alias: ${Object.keys(CACHE_BEHAVIOR_ALIASES).join(", ")}), got ${describe(behavior)}.`,
  );
  return "disable";
}

/**
 * Cache settings of a task. A cached task whose inputs and version match an earlier successful
 * call returns that call's outputs without running.
 *
 * @example
 * ```ts
 * env.task({ cache: new flyte.Cache({ behavior: "auto", ignoredInputs: ["verbose"] }) }, fn);
 * env.task({ cache: "auto" }, fn);  // the same, with defaults
 * ```
 */
export class Cache {
  /** The behaviour, aliases resolved (`"enabled"` → `"auto"`). */
  readonly behavior: NormalizedCacheBehavior;
  /** The fixed version, or `undefined` to derive it from the policies. */
  readonly versionOverride: string | undefined;
  /** Whether identical concurrent calls run once. */
  readonly serialize: boolean;
  /** Inputs left out of the cache key. */
  readonly ignoredInputs: readonly string[];
  /** Mixed into every policy's digest. */
  readonly salt: string;
  /** What the version is derived from. */
  readonly policies: readonly CachePolicy[];

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(behaviorOrOptions: CacheBehavior | CacheBehaviorAlias | CacheOptions) {
    const problems = new Problems("Cache");
    const options: Partial<CacheOptions> =
      typeof behaviorOrOptions === "string" ? { behavior: behaviorOrOptions } : behaviorOrOptions;
    checkKeys(problems, options, cacheKeys);
    const {
      versionOverride,
      serialize = false,
      ignoredInputs = [],
      salt = "",
      policies,
    } = options ?? {};
    const behavior = normalizeBehavior(problems, options?.behavior);
    if (
      versionOverride !== undefined &&
      (typeof versionOverride !== "string" || versionOverride === "")
    ) {
      problems.add(
        "versionOverride",
        `Expected \`versionOverride\` to be a non-empty string, got ${describe(versionOverride)}.`,
      );
    }
    if (typeof serialize !== "boolean") {
      problems.add(
        "serialize",
        `Expected \`serialize\` to be a boolean, got ${describe(serialize)}.`,
      );
    }
    if (typeof salt !== "string") {
      problems.add("salt", `Expected \`salt\` to be a string, got ${describe(salt)}.`);
    }
    const ignored: string[] = typeof ignoredInputs === "string" ? [ignoredInputs] : [];
    if (Array.isArray(ignoredInputs)) {
      ignoredInputs.forEach((name: unknown, i) => {
        if (typeof name === "string" && name !== "") ignored.push(name);
        else problems.add(`ignoredInputs[${i}]`, `Expected an input name, got ${describe(name)}.`);
      });
    } else if (typeof ignoredInputs !== "string" || ignoredInputs === "") {
      problems.add(
        "ignoredInputs",
        `Expected \`ignoredInputs\` to be an input name or a list of them, got ${describe(ignoredInputs)}.`,
      );
    }
    const policyList: readonly unknown[] =
      policies === undefined
        ? [new FunctionBodyPolicy()]
        : Array.isArray(policies)
          ? policies
          : [policies];
    policyList.forEach((policy, i) => {
      if (typeof (policy as CachePolicy | null)?.getVersion !== "function") {
        const path = Array.isArray(policies) ? `policies[${i}]` : "policies";
        problems.add(
          path,
          `Expected a cache policy (an object with a \`getVersion(salt, params)\` method), got ${describe(policy)}.`,
        );
      }
    });
    if (behavior !== "disable" && versionOverride === undefined && policyList.length === 0) {
      problems.add(
        "policies",
        "At least one cache policy is needed when `versionOverride` is not set. Leave `policies` out to use FunctionBodyPolicy, or set `versionOverride`.",
      );
    }
    problems.throwIfAny();
    this.behavior = behavior;
    this.versionOverride = versionOverride;
    this.serialize = serialize;
    this.ignoredInputs = Object.freeze([...new Set(ignored)]);
    this.salt = salt;
    this.policies = Object.freeze([...(policyList as CachePolicy[])]);
    Object.freeze(this);
  }

  /**
   * Returns `request` if it already is a Cache, else builds one from the behaviour or options.
   * @example
   * ```ts
   * Cache.from("auto").isEnabled(); // true
   * ```
   */
  static from(request: CacheRequest): Cache {
    return request instanceof Cache ? request : new Cache(request);
  }

  /** Whether results are cached: behaviour `"auto"` or `"override"`. */
  isEnabled(): boolean {
    return this.behavior !== "disable";
  }

  /** The inputs left out of the cache key (also when caching is disabled, unlike upstream b0). */
  getIgnoredInputs(): readonly string[] {
    return this.ignoredInputs;
  }

  /**
   * The cache version: `""` when disabled, `versionOverride` when set, else the hex SHA-256 of the
   * policies' digests concatenated in order. Pure, so callers may memoise it per function.
   *
   * @throws InvalidConfigError when `params` is missing and there is no `versionOverride`, or when
   *   a policy throws or returns something other than a string (naming the policy)
   */
  getVersion(params?: VersionParameters): string {
    if (!this.isEnabled()) return "";
    if (this.versionOverride !== undefined) return this.versionOverride;
    if (params === undefined) {
      throw new InvalidConfigError("Cache version", [
        {
          path: "",
          message:
            "Version parameters must be provided when `versionOverride` is not set. Pass { func } or set `versionOverride`.",
        },
      ]);
    }
    const digests = this.policies.map((policy, i) => {
      const name = policy.constructor?.name || "policy";
      const fail = (message: string, cause?: unknown): never => {
        const problem: ConfigProblem = { path: `policies[${i}]`, message };
        throw new InvalidConfigError(
          "Cache version",
          [problem],
          cause === undefined ? {} : { cause },
        );
      };
      let digest: unknown;
      try {
        digest = policy.getVersion(this.salt, params);
      } catch (error) {
        fail(
          `Failed to generate version for cache policy ${name}: ${error instanceof Error ? error.message : String(error)}`,
          error,
        );
      }
      if (typeof digest !== "string") {
        fail(
          `Cache policy ${name} returned ${describe(digest)} instead of a string. Make its getVersion() return a string.`,
        );
      }
      return digest as string;
    });
    return sha256Hex(digests.join(""));
  }

  /** A short description such as `Cache("auto")`. */
  toString(): string {
    return `Cache(${JSON.stringify(this.behavior)})`;
  }
}
