// The README is a test: every ```ts block of README.md that is a program (it imports flyte-ts)
// runs as written, copied into a project of its own, with `node --import tsx`.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuilt, type Finished, repoRoot } from "../fixtures/cli/cli-process.js";
import { type RedisServer, redisUnavailable, startRedis } from "../fixtures/redis-server.js";

/** A ```ts block of the README. */
interface Block {
  readonly line: number;
  readonly code: string;
}

function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^( *)```ts\n([\s\S]*?)^\1```/gm)) {
    const indent = (match[1] ?? "").length;
    const code = (match[2] ?? "")
      .split("\n")
      .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
      .join("\n");
    blocks.push({ line: markdown.slice(0, match.index).split("\n").length, code });
  }
  return blocks;
}

/** What a program is expected to do; a program without an entry must exit 0. */
interface Expectation {
  readonly marker: string;
  readonly code?: number;
  readonly stdout?: RegExp;
  readonly stderr?: RegExp;
  /** Why it cannot run here, when it cannot. */
  readonly skip?: () => string | undefined;
  readonly env?: () => Record<string, string>;
}

let redis: RedisServer | undefined;
const noRedis = redisUnavailable();

const expectations: readonly Expectation[] = [
  { marker: "async function main(n = 10)", stdout: /^285\n$/ },
  { marker: "async function featurize(", stdout: /^\[ \[ '1', '2' \], \[ '4', '5' \] \] true\n$/ },
  {
    marker: "new KeyvRedis(url)",
    stdout: /^5\n$/,
    skip: () => noRedis,
    env: () => ({ REDIS_URL: redis?.url ?? "" }),
  },
  {
    // An excerpt of examples/slurm.ts, which the Slurm tests run on a real cluster both ways.
    marker: "new flyte.Slurm({})",
    skip: () => "the Slurm excerpt runs as examples/slurm.ts in test/integration/slurm.test.ts",
  },
  {
    // No cluster here: the offloaded call fails, saying what was emitted and how to submit it.
    marker: 'mode: "hybrid"',
    code: 1,
    stderr: /DeploymentError[\s\S]*kubectl apply -f/,
    // The program asks for this secret; its value is never written anywhere.
    env: () => ({ HF_TOKEN: "hf_readme_test" }),
  },
];

const readme = await readFile(join(repoRoot, "README.md"), "utf8");
const programs = tsBlocks(readme).filter((b) => /from "flyte-ts"/.test(b.code));
let projects: string;

/** A fresh project folder: package.json of type module, a lockfile, and the repo's node_modules plus flyte-ts. */
async function project(name: string): Promise<string> {
  const dir = join(projects, name);
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await writeFile(join(dir, "package.json"), '{ "name": "readme-program", "type": "module" }\n');
  // As after `npm install` (Image.auto() installs from the lockfile).
  await writeFile(
    join(dir, "package-lock.json"),
    '{ "name": "readme-program", "lockfileVersion": 3, "requires": true, "packages": {} }\n',
  );
  for (const entry of await readdir(join(repoRoot, "node_modules"))) {
    if (entry.startsWith(".")) continue;
    await symlink(join(repoRoot, "node_modules", entry), join(dir, "node_modules", entry));
  }
  await symlink(repoRoot, join(dir, "node_modules", "flyte-ts"));
  return dir;
}

function runProgram(dir: string, extra: Record<string, string>): Promise<Finished> {
  // No cluster and no user settings: the programs see a bare machine, their .flyte in the project.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: "1",
    HOME: dir,
    KUBECONFIG: join(dir, "no-kubeconfig"),
    ...extra,
  };
  delete env.FLYTE_TS_HOME;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "program.ts"],
      {
        cwd: dir,
        timeout: 120_000,
        env,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  await ensureBuilt();
  projects = await mkdtemp(join(tmpdir(), "flyte-ts-readme-"));
  if (noRedis === undefined) redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
  await rm(projects, { recursive: true, force: true });
});

describe("README programs", () => {
  test("are found, and each has an expectation or must simply succeed", () => {
    expect(programs.length).toBeGreaterThanOrEqual(expectations.length);
    for (const e of expectations) {
      expect(
        programs.some((p) => p.code.includes(e.marker)),
        e.marker,
      ).toBe(true);
    }
  });

  describe.concurrent.each(programs)("the program at README.md line $line", (block) => {
    const expectation = expectations.find((e) => block.code.includes(e.marker));
    const skipped = expectation?.skip?.();
    test.skipIf(skipped !== undefined)(
      `runs as written${skipped ? ` (skipped: ${skipped})` : ""}`,
      async () => {
        const dir = await project(`line-${block.line}`);
        await writeFile(join(dir, "program.ts"), block.code);
        const r = await runProgram(dir, expectation?.env?.() ?? {});
        const shown = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        expect(r.code, shown).toBe(expectation?.code ?? 0);
        if (expectation?.stdout) expect(r.stdout, shown).toMatch(expectation.stdout);
        if (expectation?.stderr) expect(r.stderr, shown).toMatch(expectation.stderr);
      },
    );
  });
});
