import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Image } from "../../../src/api/image.js";
import { parseScriptMetadata } from "../../../src/api/image-layers.js";
import { problemsOf } from "../../fixtures/config-problems.js";

const major = process.versions.node.split(".")[0];

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "flyte-image-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("Image constructors", () => {
  it("builds the default image on the running Node with identifier auto (acceptance case 31)", () => {
    const image = Image.auto();
    expect(image.identifier).toBe("auto");
    expect(image.baseImage).toBe(`node:${major}-bookworm-slim`);
    expect(image.uri).toBe(`flyte-ts:node${major}`);
    expect(image.platform).toEqual(["linux/amd64", "linux/arm64"]);
    expect(image.layers).toEqual([
      {
        kind: "packageJson",
        packageJson: "package.json",
        lockfile: "package-lock.json",
        packageManager: "npm",
      },
    ]);
  });

  it("gives a default image under a registry and name a content-hash tag", () => {
    const image = Image.auto({ registry: "ghcr.io/org", name: "app" });
    expect(image.identifier).toMatch(/^[0-9a-f]{32}$/);
    expect(image.uri).toBe(`ghcr.io/org/app:${image.identifier}`);
  });

  it("is no longer the default image once its package.json is moved", () => {
    expect(Image.auto({ packageJson: "app/package.json" }).identifier).not.toBe("auto");
    expect(Image.auto({ nodeVersion: 22 }).uri).toBe("flyte-ts:node22");
  });

  it("cannot be constructed directly (acceptance case 31)", () => {
    const Constructor = Image as unknown as new (...args: unknown[]) => Image;
    expect(() => new Constructor({})).toThrow(TypeError);
    expect(() => new Constructor({})).toThrow(/Direct construction of Image is not allowed/);
  });

  it("uses a prebuilt image's reference as its uri (acceptance case 31)", () => {
    expect(Image.fromPrebuilt("myregistry.com/myimage:v123").uri).toBe(
      "myregistry.com/myimage:v123",
    );
  });

  it("refuses a layer on a final prebuilt image, writing out the call that names it first (acceptance case 31)", () => {
    const base = Image.fromPrebuilt("python:3.12");
    expect(base.isFinal).toBe(true);
    const problems = problemsOf(() => base.withPipPackages("numpy"));
    expect(problems[0]?.message).toContain(
      'Image.fromPrebuilt("python:3.12").clone({ registry: "<your registry>", name: "python-custom" }).withPipPackages(...)',
    );
    const named = base.clone({ registry: "ghcr.io/org", name: "py" }).withPipPackages("numpy");
    expect(named.uri).toBe(`ghcr.io/org/py:${named.identifier}`);
    expect(named.baseImage).toBe("python:3.12");
    expect(named.isFinal).toBe(false);
  });

  it("is final when built from a Dockerfile, and not for the default image", () => {
    expect(Image.fromDockerfile("Dockerfile", { registry: "ghcr.io/org", name: "d" }).isFinal).toBe(
      true,
    );
    expect(Image.auto().isFinal).toBe(false);
  });

  it("gives a cloned default image a different uri (acceptance case 31)", () => {
    const cloned = Image.auto().clone({ registry: "ghcr.io/org", name: "mine" });
    expect(cloned.uri).not.toBe(Image.auto().uri);
    expect(cloned.identifier).not.toBe("auto");
  });

  it("defaults a Dockerfile image to linux/amd64 and refuses layers (acceptance case 31)", () => {
    const image = Image.fromDockerfile("Dockerfile", { registry: "ghcr.io/org", name: "d" });
    expect(image.platform).toEqual(["linux/amd64"]);
    expect(image.uri).toMatch(/^ghcr\.io\/org\/d:[0-9a-f]{32}$/);
    expect(problemsOf(() => image.withAptPackages("git"))[0]?.message).toMatch(/Dockerfile/);
  });

  it("builds a uv Debian image with a Python base", () => {
    const image = Image.fromUvDebian({
      registry: "ghcr.io/org",
      name: "py",
      tag: "v1",
      pythonVersion: [3, 11],
    });
    expect(image.baseImage).toBe("python:3.11-slim-bookworm");
    expect(image.pythonVersion).toBe("3.11");
    expect(image.uri).toBe("ghcr.io/org/py:v1");
  });

  it("reads a uv script's dependencies into apt then pip layers (acceptance case 31)", () => {
    const script = join(root, "fetch.py");
    writeFileSync(
      script,
      '#!/usr/bin/env -S uv run --script\n# /// script\n# requires-python = ">=3.12"\n# dependencies = [\n#   "httpx",\n#   "rich>=13",\n# ]\n# ///\nprint(1)\n',
    );
    const image = Image.fromUvScript(script, { name: "fetcher" });
    const kinds = image.resolvedLayers(root).map((layer) => layer.kind);
    expect(kinds).toEqual(["aptPackages", "aptPackages", "pipPackages"]);
    expect(image.resolvedLayers(root).at(-1)).toMatchObject({ packages: ["httpx", "rich>=13"] });
    expect(() => image.validate(root)).not.toThrow();
  });

  it("does not read a uv script when constructing", () => {
    const image = Image.fromUvScript("missing.py", { name: "x" });
    expect(image.identifier).toMatch(/^[0-9a-f]{32}$/);
    expect(problemsOf(() => image.validate(root))[0]?.path).toBe("layers[2].script");
  });

  it("lists every invalid constructor option with its path", () => {
    const problems = problemsOf(() =>
      Image.fromUvDebian({
        registry: "bad registry",
        name: "Upper",
        tag: "-no",
        pythonVersion: "2.7",
        platform: ["windows/amd64" as "linux/amd64"],
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      "registry",
      "name",
      "tag",
      "pythonVersion",
      "platform",
    ]);
  });
});

describe("Image layers", () => {
  it("returns a new image from each builder and leaves the original unchanged", () => {
    const base = Image.auto();
    const withApt = base.withAptPackages("git", ["curl"]);
    expect(base.layers).toHaveLength(1);
    expect(withApt.layers.at(-1)).toEqual({ kind: "aptPackages", packages: ["git", "curl"] });
    expect(Object.isFrozen(withApt)).toBe(true);
    expect(Object.isFrozen(withApt.layers)).toBe(true);
  });

  it("computes the same identifier for the same layers", () => {
    const build = () =>
      Image.auto()
        .withEnvVars({ B: "2", A: "1" })
        .withPipPackages(["numpy"], { pre: true })
        .withCommands(["make"])
        .withWorkdir("/app");
    expect(build().identifier).toBe(build().identifier);
    expect(build().tag).toBe(build().identifier);
    expect(Image.auto().withEnvVars({ A: "1", B: "2" }).identifier).toBe(
      Image.auto().withEnvVars({ B: "2", A: "1" }).identifier,
    );
  });

  it("changes the identifier when a layer changes", () => {
    const a = Image.auto().withNpmPackages("sharp");
    expect(a.identifier).not.toBe(Image.auto().withNpmPackages("sharp@0.33").identifier);
    expect(a.identifier).not.toBe(a.withWorkdir("/app").identifier);
  });

  it("identifies source copies by destination only, as upstream", () => {
    expect(Image.auto().withSourceFile("a.txt", "/app/x").identifier).toBe(
      Image.auto().withSourceFile("b.txt", "/app/x").identifier,
    );
    expect(Image.auto().withSourceFolder("src").identifier).not.toBe(
      Image.auto().withSourceFolder("src", "/app").identifier,
    );
  });

  it("drops a given tag when the image changes", () => {
    const tagged = Image.auto().clone({ registry: "r.io", name: "n", tag: "v1" });
    expect(tagged.uri).toBe("r.io/n:v1");
    expect(tagged.withAptPackages("git").tag).not.toBe("v1");
  });

  it("accepts packages as varargs or a list with options", () => {
    const image = Image.auto()
      .withPipPackages("a", "b")
      .withPipPackages(["c"], { indexUrl: "https://i", extraIndexUrls: "https://e" });
    expect(image.layers.at(-1)).toEqual({
      kind: "pipPackages",
      packages: ["c"],
      indexUrl: "https://i",
      extraIndexUrls: ["https://e"],
      pre: false,
      extraArgs: undefined,
    });
    expect(image.layers.at(-2)).toMatchObject({ packages: ["a", "b"] });
  });

  it("picks the package manager from the lockfile", () => {
    const image = Image.auto().withPackageJson("svc/package.json", "svc/pnpm-lock.yaml");
    expect(image.layers.at(-1)).toMatchObject({ packageManager: "pnpm" });
    expect(Image.auto().withPackageJson("svc/package.json").layers.at(-1)).toMatchObject({
      lockfile: join("svc", "package-lock.json"),
    });
  });

  it("places a uv project's lockfile beside its pyproject", () => {
    const image = Image.auto().withUvProject("py/pyproject.toml");
    expect(image.layers.at(-1)).toMatchObject({ lockfile: join("py", "uv.lock") });
  });

  it("lists every invalid layer argument with its path", () => {
    const image = Image.auto();
    expect(problemsOf(() => image.withCommands(["RUN make", ""])).map((p) => p.path)).toEqual([
      "commands[0]",
      "commands[1]",
    ]);
    expect(problemsOf(() => image.withEnvVars({ "1X": "a", Y: 2 as unknown as string }))).toEqual([
      { path: "vars.1X", message: expect.stringMatching(/Invalid environment variable name/) },
      { path: "vars.Y", message: "Expected a string value, got 2." },
    ]);
    expect(problemsOf(() => image.withRequirements("reqs.in"))[0]?.path).toBe("file");
    expect(problemsOf(() => image.withAptPackages())[0]?.path).toBe("packages");
    expect(
      problemsOf(() => image.withPackageJson("pkg.json", "deps.lock")).map((p) => p.path),
    ).toEqual(["packageJson", "lockfile"]);
  });
});

describe("Image.validate", () => {
  it("constructs with a missing source file but fails validate until it exists (acceptance case 31)", () => {
    const image = Image.auto({ packageJson: "package.json" }).withSourceFile("data.csv", "/app/");
    writeFileSync(join(root, "package.json"), "{}");
    writeFileSync(join(root, "package-lock.json"), "{}");
    expect(problemsOf(() => image.validate(root))).toEqual([
      { path: "layers[1].src", message: expect.stringMatching(/^"data.csv" does not exist/) },
    ]);
    writeFileSync(join(root, "data.csv"), "a,b");
    expect(() => image.validate(root)).not.toThrow();
  });

  it("lists every missing file at once", () => {
    mkdirSync(join(root, "py"));
    writeFileSync(join(root, "py", "pyproject.toml"), "");
    writeFileSync(join(root, "not-a-folder"), "");
    const image = Image.auto()
      .withRequirements("requirements.txt")
      .withUvProject("py/pyproject.toml")
      .withSourceFolder("not-a-folder");
    const problems = problemsOf(() => image.validate(root));
    expect(problems.map((p) => p.path)).toEqual([
      "layers[0].packageJson",
      "layers[0].lockfile",
      "layers[1].file",
      "layers[2].lockfile",
      "layers[3].src",
    ]);
    expect(problems[3]?.message).toMatch(/Run `uv lock`/);
    expect(problems[4]?.message).toMatch(/is not a folder/);
  });

  it("checks a Dockerfile exists", () => {
    const image = Image.fromDockerfile("Dockerfile", { registry: "r.io", name: "d" });
    expect(problemsOf(() => image.validate(root))[0]?.path).toBe("dockerfile");
  });
});

describe("parseScriptMetadata", () => {
  it("reads dependencies and requires-python from a PEP 723 block", () => {
    const text =
      '# /// script\n# requires-python = ">=3.12"\n# dependencies = ["httpx", \'rich\']\n# ///\n';
    expect(parseScriptMetadata(text)).toEqual({
      dependencies: ["httpx", "rich"],
      requiresPython: ">=3.12",
    });
  });

  it("rejects a script without a block", () => {
    expect(() => parseScriptMetadata("print(1)\n")).toThrow(/PEP 723/);
  });
});
