import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { normalizeSecrets, Secret, type SecretOptions } from "../../../src/api/secret.js";
import { problemsOf } from "../../fixtures/config-problems.js";

describe("Secret", () => {
  it("derives the environment variable name from group and key (acceptance case 29)", () => {
    expect(new Secret({ key: "api-key", group: "openai" }).envVarName).toBe("OPENAI_API_KEY");
    expect(new Secret({ key: "my-api-key" }).envVarName).toBe("MY_API_KEY");
    expect(Secret.from("HF_TOKEN").envVarName).toBe("HF_TOKEN");
  });

  it("uses asEnvVar when given", () => {
    const secret = new Secret({ key: "db", asEnvVar: "DATABASE_URL" });
    expect(secret.envVarName).toBe("DATABASE_URL");
    expect(secret.asEnvVar).toBe("DATABASE_URL");
  });

  it("rejects an invalid asEnvVar (acceptance case 29)", () => {
    const problems = problemsOf(() => new Secret({ key: "k", asEnvVar: "lower-case" }));
    expect(problems).toEqual([
      {
        path: "asEnvVar",
        message: expect.stringMatching(/^Invalid environment variable name: .*"lower-case"/),
      },
    ]);
  });

  it("only allows /etc/flyte/secrets as a mount (acceptance case 29)", () => {
    expect(new Secret({ key: "k", mount: "/etc/flyte/secrets" }).mount).toBe("/etc/flyte/secrets");
    expect(problemsOf(() => new Secret({ key: "k", mount: "/tmp" }))[0]).toEqual({
      path: "mount",
      message: expect.stringMatching(/^Only \/etc\/flyte\/secrets is supported/),
    });
  });

  it("gives equal settings equal identities (acceptance case 29)", () => {
    const a = new Secret({ key: "k", group: "g" });
    const b = new Secret({ key: "k", group: "g" });
    expect(a.identity).toMatch(/^[0-9a-f]{16}$/);
    expect(a.identity).toBe(b.identity);
    expect(new Secret({ key: "k" }).identity).not.toBe(a.identity);
    expect(new Secret({ key: "K", asEnvVar: "K" }).identity).toBe(Secret.from("K").identity);
  });

  it("asks for asEnvVar when the derived name is not a valid variable name", () => {
    const problems = problemsOf(() => new Secret({ key: "my.secret" }));
    expect(problems[0]?.path).toBe("asEnvVar");
    expect(problems[0]?.message).toMatch(/"MY_SECRET"/);
  });

  it("shows only key and group when printed or serialized", () => {
    const secret = new Secret({ key: "api-key", group: "openai", asEnvVar: "OPENAI" });
    expect(String(secret)).toBe("Secret(openai/api-key)");
    expect(JSON.stringify(secret)).toBe('{"key":"api-key","group":"openai"}');
    expect(inspect(secret)).toBe("Secret(openai/api-key)");
  });

  it("lists every invalid option with its path", () => {
    const problems = problemsOf(
      () => new Secret({ key: "", group: "", mount: "/x", asEnvVar: "1X", value: "s" } as never),
    );
    expect(problems.map((p) => p.path)).toEqual(["value", "key", "group", "mount", "asEnvVar"]);
  });
});

describe("normalizeSecrets", () => {
  it("turns strings, secrets and options into secrets, dropping duplicates", () => {
    const secrets = normalizeSecrets([
      "A",
      new Secret({ key: "A" }),
      { key: "b", group: "g" },
      "C",
    ]);
    expect(secrets.map((s) => s.envVarName)).toEqual(["A", "G_B", "C"]);
    expect(Object.isFrozen(secrets)).toBe(true);
  });

  it("accepts one secret or nothing", () => {
    expect(normalizeSecrets("X").map((s) => s.key)).toEqual(["X"]);
    expect(normalizeSecrets(undefined)).toEqual([]);
  });

  it("reports each invalid entry with its index", () => {
    const problems = problemsOf(() =>
      normalizeSecrets(["ok", "", { key: "k", asEnvVar: "bad name" } as SecretOptions]),
    );
    expect(problems.map((p) => p.path)).toEqual(["[1].key", "[2].asEnvVar"]);
  });

  it("rejects two different secrets that would set the same variable", () => {
    const problems = problemsOf(() => normalizeSecrets(["api-key", "API_KEY"]));
    expect(problems[0]?.message).toMatch(/\[0\] and \[1\] would both set API_KEY/);
  });
});
