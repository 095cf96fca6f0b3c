import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerfileParser, type Instruction, ModifiableInstruction } from "dockerfile-ast";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Image } from "../../../src/api/image.js";
import { writeBuildContext } from "../../../src/offload/build-context.js";
import { planDockerfile, UV_IMAGE } from "../../../src/offload/dockerfile.js";
import { problemsOf } from "../../fixtures/config-problems.js";

const major = process.versions.node.split(".")[0];

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "flyte-dockerfile-"));
  writeFileSync(join(root, "package.json"), '{"name":"app","type":"module"}\n');
  writeFileSync(join(root, "package-lock.json"), '{"lockfileVersion":3}\n');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Each instruction as [KEYWORD, its flags (`--name=value`) and arguments], as the parser reads it. */
function instructions(dockerfile: string): [string, string][] {
  const parsed = DockerfileParser.parse(dockerfile);
  return parsed.getInstructions().map((i: Instruction) => {
    const flags =
      i instanceof ModifiableInstruction
        ? i.getFlags().map((f) => `--${f.getName()}=${f.getValue()} `)
        : [];
    return [i.getKeyword(), `${flags.join("")}${i.getArgumentsContent() ?? ""}`];
  });
}

describe("planDockerfile", () => {
  it("renders the default image as Node on the running major with the project's lockfile installed", () => {
    const { dockerfile, uri } = planDockerfile(Image.auto(), { root });
    const parsed = DockerfileParser.parse(dockerfile);
    expect(parsed.getDirectives().map((d) => [d.getName(), d.getValue()])).toEqual([
      ["syntax", "docker/dockerfile:1.7"],
    ]);
    expect(uri).toBe(`flyte-ts:node${major}`);
    expect(instructions(dockerfile)).toEqual([
      ["FROM", `node:${major}-bookworm-slim`],
      ["USER", "root"],
      ["WORKDIR", "/app"],
      ["ENV", "PATH=/app/node_modules/.bin:$PATH"],
      ["COPY", "files/package.json ./package.json"],
      ["COPY", "files/package-lock.json ./package-lock.json"],
      ["RUN", "npm ci --omit=dev --no-audit --no-fund"],
      ["ENV", `_F_IMG_ID="flyte-ts:node${major}"`],
    ]);
  });

  it("renders every layer kind in order, quoting shell words and ENV values", () => {
    mkdirSync(join(root, "models"));
    writeFileSync(join(root, "requirements.txt"), "numpy\n");
    writeFileSync(join(root, "config.yaml"), "a: 1\n");
    mkdirSync(join(root, "py"));
    writeFileSync(join(root, "py", "pyproject.toml"), "[project]\n");
    writeFileSync(join(root, "py", "uv.lock"), "version = 1\n");
    const image = Image.auto({ registry: "ghcr.io/org", name: "app" })
      .withAptPackages("git", "curl")
      .withPipPackages(["torch>=2.3"], {
        indexUrl: "https://download.pytorch.org/whl/cu121",
        pre: true,
      })
      .withRequirements("requirements.txt")
      .withUvProject("py/pyproject.toml")
      .withEnvVars({ GREETING: 'say "hi" for $5', HF_HOME: "/cache" })
      .withWorkdir("/srv")
      .withSourceFile("config.yaml", "/etc/app/")
      .withSourceFolder("models", "/srv/models")
      .withCommands(["echo built > /built"])
      .withNpmPackages(["sharp", "zod@3"], { registryUrl: "https://registry.example.com" });
    const { dockerfile, uri, copies } = planDockerfile(image, { root });
    expect(uri).toBe(`ghcr.io/org/app:${image.identifier}`);
    const steps = instructions(dockerfile);
    expect(steps.slice(0, 8)).toEqual([
      ["FROM", `node:${major}-bookworm-slim`],
      ["USER", "root"],
      ["COPY", `--from=${UV_IMAGE} /uv /uvx /usr/bin/`],
      [
        "ENV",
        "UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy VIRTUAL_ENV=/opt/venv UV_PYTHON=/opt/venv/bin/python",
      ],
      ["RUN", "uv venv /opt/venv --python=3.12"],
      ["ENV", "PATH=/opt/venv/bin:$PATH"],
      ["WORKDIR", "/app"],
      ["ENV", "PATH=/app/node_modules/.bin:$PATH"],
    ]);
    expect(steps.slice(8)).toEqual([
      ["COPY", "files/package.json ./package.json"],
      ["COPY", "files/package-lock.json ./package-lock.json"],
      ["RUN", "npm ci --omit=dev --no-audit --no-fund"],
      [
        "RUN",
        "apt-get update && apt-get install -y --no-install-recommends git curl && rm -rf /var/lib/apt/lists/*",
      ],
      [
        "RUN",
        "--mount=type=cache,target=/root/.cache/uv uv pip install --python $UV_PYTHON --index-url https://download.pytorch.org/whl/cu121 --prerelease=allow 'torch>=2.3'",
      ],
      ["COPY", "files/requirements.txt /tmp/flyte-ts/layer-3/requirements.txt"],
      [
        "RUN",
        "--mount=type=cache,target=/root/.cache/uv uv pip install --python $UV_PYTHON --requirement /tmp/flyte-ts/layer-3/requirements.txt",
      ],
      ["COPY", "files/py/pyproject.toml /opt/flyte-ts/uv-project-4/pyproject.toml"],
      ["COPY", "files/py/uv.lock /opt/flyte-ts/uv-project-4/uv.lock"],
      [
        "RUN",
        "--mount=type=cache,target=/root/.cache/uv UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --locked --no-dev --no-install-project --project /opt/flyte-ts/uv-project-4",
      ],
      ["ENV", 'GREETING="say \\"hi\\" for \\$5"'],
      ["ENV", 'HF_HOME="/cache"'],
      ["WORKDIR", "/srv"],
      ["COPY", "files/config.yaml /etc/app/"],
      ["COPY", "files/models/ /srv/models"],
      ["RUN", "echo built > /built"],
      [
        "RUN",
        "npm install --omit=dev --no-audit --no-fund --registry https://registry.example.com sharp zod@3",
      ],
      ["ENV", `_F_IMG_ID="${uri}"`],
    ]);
    // The ENV value parses back to the text as written.
    const properties = DockerfileParser.parse(dockerfile)
      .getENVs()
      .flatMap((env) => env.getProperties());
    const greeting = properties.find((p) => p.getName() === "GREETING");
    // dockerfile-ast unescapes quotes but keeps `\$` (Docker's lexer reads it as a literal `$`).
    expect(greeting?.getValue()).toBe('say "hi" for \\$5');
    expect(copies.map((c) => c.target)).toEqual([
      "files/package.json",
      "files/package-lock.json",
      "files/requirements.txt",
      "files/py/pyproject.toml",
      "files/py/uv.lock",
      "files/config.yaml",
      "files/models",
    ]);
  });

  it("gives the same Image a byte-identical Dockerfile, and a changed Image a new tag", () => {
    const build = () => Image.auto({ name: "app" }).withAptPackages("git").withEnvVars({ A: "1" });
    const first = planDockerfile(build(), { root });
    const second = planDockerfile(build(), { root });
    expect(second.dockerfile).toBe(first.dockerfile);
    expect(first.uri).toBe(`app:${build().identifier}`);
    const changed = planDockerfile(build().withAptPackages("curl"), { root });
    expect(changed.uri).not.toBe(first.uri);
  });

  it("gives a uv image Node beside Python and installs a uv script's dependencies", () => {
    writeFileSync(
      join(root, "fetch.py"),
      '# /// script\n# dependencies = ["httpx", "rich>=13"]\n# ///\nprint(1)\n',
    );
    const image = Image.fromUvScript("fetch.py", { name: "fetcher", pythonVersion: "3.11" });
    const steps = instructions(planDockerfile(image, { root }).dockerfile);
    expect(steps).toContainEqual(["FROM", "python:3.11-slim-bookworm"]);
    expect(steps).toContainEqual([
      "COPY",
      `--from=node:${major}-bookworm-slim /usr/local/ /usr/local/`,
    ]);
    expect(steps).toContainEqual(["RUN", "uv venv /opt/venv --python=3.11"]);
    expect(steps).toContainEqual([
      "RUN",
      "--mount=type=cache,target=/root/.cache/uv uv pip install --python $UV_PYTHON httpx 'rich>=13'",
    ]);
  });

  it("puts files from outside the root under _abs/ in the context", () => {
    const outside = mkdtempSync(join(tmpdir(), "flyte-outside-"));
    try {
      writeFileSync(join(outside, "extra.txt"), "x");
      const image = Image.auto({ name: "app" }).withSourceFile(join(outside, "extra.txt"), "/x/");
      const { dockerfile, copies } = planDockerfile(image, { root });
      const target = `_abs${join(outside, "extra.txt")}`;
      expect(instructions(dockerfile)).toContainEqual(["COPY", `${target} /x/`]);
      expect(copies).toContainEqual({ source: join(outside, "extra.txt"), target, type: "file" });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("writeBuildContext", () => {
  it("writes the Dockerfile and every file it copies, so the context builds on its own", () => {
    mkdirSync(join(root, "models", "node_modules"), { recursive: true });
    writeFileSync(join(root, "models", "weights.bin"), "w");
    writeFileSync(join(root, "models", "node_modules", "skip.js"), "s");
    const image = Image.auto({ name: "app" }).withSourceFolder("models", "/srv/models");
    const out = join(root, "out");
    const context = writeBuildContext(image, out, { root });
    expect(context.uri).toBe(`app:${image.identifier}`);
    expect(readFileSync(context.dockerfile, "utf8")).toBe(
      planDockerfile(image, { root }).dockerfile,
    );
    expect(readFileSync(join(out, "files", "package-lock.json"), "utf8")).toContain(
      "lockfileVersion",
    );
    expect(readFileSync(join(out, "files", "models", "weights.bin"), "utf8")).toBe("w");
    expect(existsSync(join(out, "files", "models", "node_modules"))).toBe(false);
    expect(context.buildCommand).toBe(
      `docker buildx build --platform linux/amd64,linux/arm64 --tag ${context.uri} --file ${context.dockerfile} ${out}`,
    );
  });

  it("reports every missing source file before writing anything", () => {
    const image = Image.auto({ name: "app" })
      .withSourceFile("missing.txt")
      .withSourceFolder("nowhere")
      .withRequirements("reqs.txt");
    const out = join(root, "out");
    const problems = problemsOf(() => writeBuildContext(image, out, { root }));
    expect(problems.map((p) => p.path)).toEqual([
      "layers[1].src",
      "layers[2].src",
      "layers[3].file",
    ]);
    expect(problems[0]?.message).toMatch(/"missing.txt" does not exist/);
    expect(existsSync(out)).toBe(false);
  });

  it("uses a Dockerfile image's own folder as the context", () => {
    mkdirSync(join(root, "docker"));
    writeFileSync(join(root, "docker", "Dockerfile"), "FROM alpine\n");
    writeFileSync(join(root, "docker", "entry.sh"), "echo hi\n");
    const image = Image.fromDockerfile("docker/Dockerfile", { registry: "ghcr.io/org", name: "x" });
    const context = writeBuildContext(image, join(root, "out"), { root });
    expect(readFileSync(context.dockerfile, "utf8")).toBe("FROM alpine\n");
    expect(existsSync(join(root, "out", "entry.sh"))).toBe(true);
  });
});
