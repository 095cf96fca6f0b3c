import { describe, expect, it } from "vitest";
import {
  Cache,
  type CacheBehavior,
  type CachePolicy,
  FunctionBodyPolicy,
  normalizeSource,
} from "../../../src/api/cache.js";
import { InvalidConfigError } from "../../../src/errors.js";
import { problemsOf } from "../../fixtures/config-problems.js";

const policy = new FunctionBodyPolicy();
const versionOf = (source: string, salt = "") =>
  policy.getVersion(salt, { func: new Function(`return ${source}`)() });

describe("normalizeSource", () => {
  it("drops comments and collapses whitespace", () => {
    const text = "function f(a) {\n  // double it\n  return a * /* twice */ 2;\n}";
    expect(normalizeSource(text)).toBe("function f(a){return a*2;}");
  });

  it("keeps one space where tokens would otherwise fuse", () => {
    expect(normalizeSource("return  x")).toBe("return x");
    expect(normalizeSource("a + +b")).toBe("a+ +b");
    expect(normalizeSource("a - -b")).toBe("a- -b");
  });

  it("leaves strings containing // and /* untouched", () => {
    expect(normalizeSource('const u = "http://x"; // c')).toBe('const u="http://x";');
    expect(normalizeSource("const u = 'a /* b */ c';")).toBe("const u='a /* b */ c';");
  });

  it("leaves template literals and their nested expressions intact", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source text under test
    const text = "const s = `a  // ${ { k: `x ${ y /* c */ } //` }.k }  b`;";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source text under test
    expect(normalizeSource(text)).toBe("const s=`a  // ${{k:`x ${y} //`}.k}  b`;");
  });

  it("leaves regular expression literals intact", () => {
    expect(normalizeSource("const r = /\\/\\/  x[/]/g; // c")).toBe("const r=/\\/\\/  x[/]/g;");
    expect(normalizeSource("return /a  b/.test(s)")).toBe("return/a  b/.test(s)");
    expect(normalizeSource("const h = a / b / c")).toBe("const h=a/b/c");
  });
});

describe("FunctionBodyPolicy", () => {
  it("gives the same version whatever the comments and whitespace", () => {
    const a = versionOf("function square(x) { return x * x; }");
    const b = versionOf("function square(x) {\n  // the square\n  return x*x; /* done */\n}");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
  });

  it("gives identical function text at different nesting the same version (acceptance case 20)", () => {
    function outer() {
      function inner(x: number) {
        return x + 1;
      }
      return inner;
    }
    const top = versionOf("function inner(x) {\n    return x + 1;\n}");
    expect(policy.getVersion("", { func: outer() })).toBe(top);
  });

  it("changes the version when the body changes", () => {
    expect(versionOf("function f(x) { return x + 1; }")).not.toBe(
      versionOf("function f(x) { return x + 2; }"),
    );
  });

  it("does not treat // inside a string as a comment", () => {
    expect(versionOf('function f() { return "a//b"; }')).not.toBe(
      versionOf('function f() { return "a//c"; }'),
    );
  });

  it("changes the version with the salt", () => {
    expect(versionOf("function f() {}", "a")).not.toBe(versionOf("function f() {}", "b"));
  });

  it("returns an empty string when there is no function", () => {
    expect(policy.getVersion("salt", {})).toBe("");
  });

  it("refuses a bound function, whose source cannot be read", () => {
    const bound = function f() {}.bind(null);
    expect(() => policy.getVersion("", { func: bound })).toThrow(/cannot be read/);
  });
});

describe("Cache", () => {
  it("is enabled for auto and override, not for disable (acceptance case 21)", () => {
    expect(new Cache("auto").isEnabled()).toBe(true);
    expect(new Cache("override").isEnabled()).toBe(true);
    expect(new Cache("disable").isEnabled()).toBe(false);
  });

  it("treats enabled as auto, unlike upstream b0", () => {
    const cache = new Cache("enabled");
    expect(cache.behavior).toBe("auto");
    expect(cache.isEnabled()).toBe(true);
  });

  it.each([
    ["True", "auto"],
    ["on", "auto"],
    ["YES", "auto"],
    ["enable", "auto"],
    ["None", "disable"],
    ["off", "disable"],
    ["false", "disable"],
    ["no", "disable"],
    ["AUTO", "auto"],
  ])("maps the alias %j to %j", (alias, behavior) => {
    expect(new Cache(alias as CacheBehavior).behavior).toBe(behavior);
  });

  it("rejects an unknown behaviour, listing the valid ones", () => {
    const problems = problemsOf(() => new Cache("sometimes" as CacheBehavior));
    expect(problems).toEqual([
      { path: "behavior", message: expect.stringMatching(/^Invalid cache behavior: .*"auto"/) },
    ]);
  });

  it("returns versionOverride verbatim and an empty string when disabled", () => {
    expect(new Cache({ behavior: "auto", versionOverride: "v1.0" }).getVersion()).toBe("v1.0");
    expect(new Cache("disable").getVersion()).toBe("");
  });

  it("needs version parameters when there is no override", () => {
    expect(() => new Cache("auto").getVersion()).toThrow(InvalidConfigError);
    expect(() => new Cache("auto").getVersion()).toThrow(/Version parameters must be provided/);
  });

  it("hashes the concatenated policy digests", () => {
    const fixed = (digest: string): CachePolicy => ({ getVersion: () => digest });
    const cache = new Cache({ behavior: "auto", policies: [fixed("a"), fixed("b")] });
    const same = new Cache({ behavior: "auto", policies: [fixed("ab")] });
    expect(cache.getVersion({})).toMatch(/^[0-9a-f]{64}$/);
    expect(cache.getVersion({})).toBe(same.getVersion({}));
  });

  it("passes the salt to every policy and is pure", () => {
    const salted: CachePolicy = { getVersion: (salt) => `p${salt}` };
    const a = new Cache({ behavior: "auto", salt: "1", policies: salted });
    const b = new Cache({ behavior: "auto", salt: "2", policies: salted });
    expect(a.getVersion({})).not.toBe(b.getVersion({}));
    expect(a.getVersion({})).toBe(a.getVersion({}));
  });

  it("names the policy that failed", () => {
    class Broken implements CachePolicy {
      getVersion(): string {
        throw new Error("no git");
      }
    }
    const cache = new Cache({
      behavior: "auto",
      policies: [new FunctionBodyPolicy(), new Broken()],
    });
    const problems = problemsOf(() => cache.getVersion({ func: () => 1 }));
    expect(problems).toEqual([
      {
        path: "policies[1]",
        message: "Failed to generate version for cache policy Broken: no git",
      },
    ]);
  });

  it("uses FunctionBodyPolicy by default (acceptance case 20)", () => {
    const cache = Cache.from("auto");
    expect(cache).toBeInstanceOf(Cache);
    expect(cache.policies).toHaveLength(1);
    expect(cache.policies[0]).toBeInstanceOf(FunctionBodyPolicy);
    const func = () => 42;
    expect(cache.getVersion({ func })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("wraps a single ignored input and defaults to none (acceptance case 21)", () => {
    expect(new Cache({ behavior: "auto", ignoredInputs: "x" }).getIgnoredInputs()).toEqual(["x"]);
    expect(new Cache("auto").getIgnoredInputs()).toEqual([]);
    expect(new Cache({ behavior: "disable", ignoredInputs: ["a"] }).getIgnoredInputs()).toEqual([
      "a",
    ]);
  });

  it("returns the same Cache from from()", () => {
    const cache = new Cache("auto");
    expect(Cache.from(cache)).toBe(cache);
    expect(Cache.from({ behavior: "override", versionOverride: "v2" }).getVersion()).toBe("v2");
  });

  it("needs a policy or an override when enabled", () => {
    const problems = problemsOf(() => new Cache({ behavior: "auto", policies: [] }));
    expect(problems[0]?.path).toBe("policies");
    expect(() => new Cache({ behavior: "disable", policies: [] })).not.toThrow();
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () =>
        new Cache({
          behavior: "auto",
          versionOverride: "",
          serialize: "yes" as unknown as boolean,
          ignoredInputs: ["ok", ""],
          salt: 1 as unknown as string,
          policies: [{} as CachePolicy],
          extra: true,
        } as never),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "extra",
      "versionOverride",
      "serialize",
      "salt",
      "ignoredInputs[1]",
      "policies[0]",
    ]);
  });

  it("is frozen", () => {
    const cache = new Cache({ behavior: "auto", ignoredInputs: ["a"] });
    expect(Object.isFrozen(cache)).toBe(true);
    expect(Object.isFrozen(cache.ignoredInputs)).toBe(true);
  });
});
