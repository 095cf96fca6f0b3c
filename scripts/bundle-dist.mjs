// The build's second step (after `tsc`, which writes the .d.ts files): bundles src/ into dist/
// with esbuild, so a cold `flyte-ts run` reads a handful of files instead of about 180 (cold
// start, issue 11). Node 20 pays about a millisecond for each ES module it loads, whatever its
// size, and V8 about as much again for each 20 KB it compiles.
//
// The engine is one script, dist/engine.cjs: every module of src/ once, so a program importing
// `flyte-ts` and the CLI running it share the engine's state. A module that is imported
// dynamically (the CLI's commands, a run's controller and stores) stays lazy: esbuild wraps it in
// a function that runs it on first import. A worker (thread or process) loads
// dist/worker-engine.cjs instead: the same modules without a run's controller, stores and CLI,
// which a worker never runs (a run started in a worker is refused before it loads them), so
// each worker compiles less than half the code. The engines are classic scripts, not ES modules,
// so that dist/engine-loader.js can load them with V8's code cache (see there); the first line
// of each names its build (a hash of its text), which names its cache.
//
// The package's entry points and the modules the engine loads by URL are small files over the
// engines: dist/index.js takes the API from the engine of its thread (a worker's is marked
// before it imports any task module); dist/testing.js and dist/cli/main.js run their module in
// engine.cjs, dist/execution/worker-entry.js in worker-engine.cjs. The engine loader, the module
// resolution hooks, the vitest stub, the run store's and the cache's writer threads and the
// spare thread's starter share no state with an engine (the spare's is in a global slot), and
// are files of their own.
//
// A module's `import.meta.url` is rewritten to the URL the module had before bundling
// (dist/<folder>/<name>.js), so the paths it computes from it (the worker program, the run
// store's writer thread, package.json, the native addon) stay what they were.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

/** Stands in, in a module's code, for the way from its output file up to dist/ ("./" or "../"). */
const distRootMark = "__FLYTE_TS_DIST_ROOT__";

/** Gives each module its own unbundled `import.meta.url` (see the header). */
const moduleUrls = {
  name: "module-urls",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const asBuilt = relative(src, args.path).split(sep).join("/").replace(/\.ts$/, ".js");
      const url = `new URL(${JSON.stringify(asBuilt)}, new URL("${distRootMark}", import.meta.url)).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

/** The package's version, written into the engine: no package.json to read as it loads. */
const builtVersion = {
  name: "built-version",
  setup(build) {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
      contents: `export const version = ${JSON.stringify(version)};`,
      loader: "ts",
    }));
  },
};

/** The modules a worker never loads: `run()` refuses to start a run in a worker first. */
const notInWorkers = [join(src, "run", "engine.ts"), join(src, "run", "start-run.ts")];

/** Leaves a run's machinery out of the worker engine: importing it there throws. */
const workerOnly = {
  name: "worker-only",
  setup(build) {
    build.onResolve({ filter: /^\.\/(engine|start-run)\.js$/ }, (args) => {
      const path = join(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
      return notInWorkers.includes(path) ? { path, namespace: "not-in-workers" } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: "not-in-workers" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`flyte-ts: ${relative(src, args.path)} is not loaded in a worker.`)});`,
      loader: "js",
    }));
  },
};

/** What every build here shares. */
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  tsconfig: join(root, "tsconfig.build.json"),
  sourcemap: true,
  sourcesContent: false,
  write: false,
  logLevel: "warning",
};

/** Modules an engine runs for an entry point file (`__flyteTs_<name>()` in the engine). */
const engines = {
  engine: { cli: "cli/main.ts", testing: "testing.ts" },
  "worker-engine": { workerEntry: "execution/worker-entry.ts" },
};

/** The entry point files over an engine, with the module each runs (or re-exports). */
const entries = [
  { out: "testing.js", engine: "engine", run: "testing" },
  { out: "cli/main.js", engine: "engine", run: "cli" },
  { out: "execution/worker-entry.js", engine: "worker-engine", run: "workerEntry" },
];

/** Files of their own (see the header). */
const standalone = [
  "engine-loader.ts",
  "execution/engine-hooks.ts",
  "execution/vitest-stub.ts",
  "execution/spare-thread.ts",
  "record/run-store-writer-thread.ts",
  "cache/cache-writer-thread.ts",
];

/** An engine's source: the API, and a function per module it runs for an entry point file. */
function engineSource(runs) {
  const lines = ['export * from "./index.js";'];
  for (const [name, module] of Object.entries(runs)) {
    const path = JSON.stringify(`./${module.replace(/\.ts$/, ".js")}`);
    lines.push(`export const __flyteTs_${name} = () => import(${path});`);
  }
  return lines.join("\n");
}

/** The names `module` exports at run time (types left out). */
async function exportsOf(module) {
  const result = await build({
    ...common,
    entryPoints: [join(src, module)],
    outfile: join(dist, "exports-of.js"),
    sourcemap: false,
    metafile: true,
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs)
    .flatMap((output) => output.exports)
    .sort();
}

/** The import of the engine loader in the entry point file `out`. */
function loaderImport(out) {
  const up = relative(dirname(join(dist, out)), dist) || ".";
  return `import { loadEngine } from ${JSON.stringify(`${up}/engine-loader.js`)};\n`;
}

/** An entry point file that runs its module in its engine and re-exports what it exports. */
async function entrySource({ out, engine, run }) {
  const names = await exportsOf(engines[engine][run]);
  const loaded = `await loadEngine(${JSON.stringify(engine)}).__flyteTs_${run}()`;
  return (
    loaderImport(out) +
    (names.length === 0 ? `${loaded};\n` : `export const { ${names.join(", ")} } = ${loaded};\n`)
  );
}

/** dist/index.js: the API from the engine of this thread (a worker's is marked as it starts). */
async function indexSource() {
  const names = await exportsOf("index.ts");
  return (
    loaderImport("index.js") +
    'const inWorker = globalThis[Symbol.for("flyte-ts.in-worker.v1")] === true;\n' +
    'const engine = loadEngine(inWorker ? "worker-engine" : "engine");\n' +
    `export const { ${names.join(", ")} } = engine;\n`
  );
}

/** The first line of an engine script: its name and build, filled in once its text is known. */
const buildMark = "0".repeat(16);
const bannerOf = (name) => `// flyte-ts ${name} ${buildMark}`;

/** The script's text with its build hash (of the text itself) in its first line. */
function withBuild(name, text) {
  const build = createHash("sha256").update(text).digest("hex").slice(0, 16);
  return text.replace(bannerOf(name), `// flyte-ts ${name} ${build}`);
}

/**
 * Functions whose source the engine ships by `toString()` (the report page's script calls them
 * by name): esbuild renames a function whose name another module also declares, which would
 * break the page, so the build refuses to.
 */
const shippedByName = ["formatMs", "barDetail"];

function checkShippedNames(text) {
  for (const name of shippedByName) {
    const declared = text.includes(`\nfunction ${name}(`);
    const renamed = new RegExp(`\\bfunction ${name}\\d+\\(`).test(text);
    if (!declared || renamed) {
      throw new Error(
        `bundle-dist: function ${name} was renamed in the bundle (another module declares the same name); rename one of them.`,
      );
    }
  }
}

/**
 * A script has no `import()` (engine-loader.ts): the engine imports through `importModule`
 * (internal/import-module.ts), whose own fallback is the one call allowed.
 */
function checkNoImportCalls(text, name) {
  const calls = text.match(/(?<![\w.$])import\(/g) ?? [];
  if (calls.length > 1) {
    throw new Error(
      `bundle-dist: ${name}.cjs calls import() ${calls.length - 1} time(s) beside importModule's own; use importModule (src/internal/import-module.ts).`,
    );
  }
}

/** Deletes the JavaScript of earlier builds (tsc's per-module files among them); keeps the .d.ts. */
function removeJavaScript(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) removeJavaScript(path);
    else if (/\.c?js(\.map)?$/.test(name)) rmSync(path);
  }
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

mkdirSync(dist, { recursive: true });
removeJavaScript(dist);
rmSync(join(dist, "chunks"), { recursive: true, force: true });
const outputs = [];
for (const [name, runs] of Object.entries(engines)) {
  const { outputFiles } = await build({
    ...common,
    // A classic script (engine-loader.ts runs it in a function given these names).
    format: "cjs",
    define: { "import.meta.url": "__flyteEngineUrl" },
    banner: { js: bannerOf(name) },
    stdin: { contents: engineSource(runs), resolveDir: src, sourcefile: name, loader: "ts" },
    outfile: join(dist, `${name}.cjs`),
    plugins: [builtVersion, moduleUrls, ...(name === "worker-engine" ? [workerOnly] : [])],
  });
  for (const output of outputFiles) {
    if (!output.path.endsWith(".cjs")) continue;
    checkShippedNames(output.text);
    checkNoImportCalls(output.text, name);
  }
  outputs.push(
    ...outputFiles.map((output) =>
      output.path.endsWith(".cjs")
        ? { path: output.path, text: withBuild(name, output.text) }
        : output,
    ),
  );
}
const alone = await build({
  ...common,
  entryPoints: standalone.map((module) => join(src, module)),
  outdir: dist,
  outbase: src,
  plugins: [builtVersion, moduleUrls],
});
for (const file of [...outputs, ...alone.outputFiles]) {
  const up = relative(dirname(file.path), dist).split(sep).join("/");
  write(file.path, file.text.replaceAll(distRootMark, up === "" ? "./" : `${up}/`));
}
write(join(dist, "index.js"), await indexSource());
for (const entry of entries) write(join(dist, entry.out), await entrySource(entry));
