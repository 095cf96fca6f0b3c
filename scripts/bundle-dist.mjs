// The build's second step (after `tsc`, which writes the .d.ts files): bundles src/ into dist/
// with esbuild, so a cold `flyte-ts run` reads a handful of files instead of about 180 (cold
// start, issue 11). Node 20 pays about a millisecond per ES module it loads, whatever its size.
//
// The whole engine is one module, dist/engine.js: every module of src/ once, so a program
// importing `flyte-ts` and the CLI running it share the engine's state. A module that is imported
// dynamically (the CLI's commands, a run's controller and stores, the worker program) stays lazy:
// esbuild wraps it in a function that runs it on first import. The package's entry points and the
// modules the engine loads by URL are small files over engine.js: dist/index.js re-exports the
// API; dist/testing.js, dist/cli/main.js, dist/execution/worker-entry.js and
// dist/record/run-store-writer-thread.js run their module in it. The module resolution hooks and
// the vitest stub, which run on their own (Node's loader thread, a test file in a worker), and the
// spare thread's starter, which the bin loads before the engine, are files of their own.
//
// A module's `import.meta.url` is rewritten to the URL the module had before bundling
// (dist/<folder>/<name>.js), so the paths it computes from it (the worker program, the run
// store's writer thread, package.json, the native addon) stay what they were.
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

/**
 * The entry points over engine.js: each runs its module in the engine (the functions engine.js
 * exports for it) and re-exports what it exports. `index.js` is the one whose module is loaded
 * with the engine, so its exports are the engine's own bindings.
 */
const entries = [
  { out: "index.js", module: "index.ts", run: undefined },
  { out: "testing.js", module: "testing.ts", run: "testing" },
  { out: "cli/main.js", module: "cli/main.ts", run: "cli" },
  { out: "execution/worker-entry.js", module: "execution/worker-entry.ts", run: "workerEntry" },
  {
    out: "record/run-store-writer-thread.js",
    module: "record/run-store-writer-thread.ts",
    run: "runStoreWriterThread",
  },
];

/**
 * Files of their own: they share no state with the engine (the spare thread's is in a global
 * slot: the bin starts it before it loads the engine).
 */
const standalone = [
  "execution/engine-hooks.ts",
  "execution/vitest-stub.ts",
  "execution/spare-thread.ts",
];

/** engine.js's source: the API, and one loader per entry point that runs a module of its own. */
function engineSource() {
  const lines = ['export * from "./index.js";'];
  for (const { module, run } of entries) {
    if (run === undefined) continue;
    const path = `./${module.replace(/\.ts$/, ".js")}`;
    lines.push(`export const __flyteTs_${run} = () => import(${JSON.stringify(path)});`);
  }
  return lines.join("\n");
}

/** The names an entry's module exports at run time (types left out). */
async function exportsOf(module) {
  const result = await build({
    ...common,
    entryPoints: [join(src, module)],
    outfile: join(dist, "exports-of.js"),
    sourcemap: false,
    metafile: true,
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

/** The source of one entry point's file over engine.js. */
async function entrySource({ out, module, run }) {
  const engine = JSON.stringify(`${relative(dirname(join(dist, out)), dist) || "."}/engine.js`);
  const names = (await exportsOf(module)).sort();
  if (run === undefined) return `export { ${names.join(", ")} } from ${engine};\n`;
  const loaded = `await (await import(${engine})).__flyteTs_${run}()`;
  return names.length === 0
    ? `${loaded};\n`
    : `export const { ${names.join(", ")} } = ${loaded};\n`;
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

/** Deletes the JavaScript of earlier builds (tsc's per-module files among them); keeps the .d.ts. */
function removeJavaScript(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) removeJavaScript(path);
    else if (/\.js(\.map)?$/.test(name)) rmSync(path);
  }
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

mkdirSync(dist, { recursive: true });
removeJavaScript(dist);
rmSync(join(dist, "chunks"), { recursive: true, force: true });
const engine = await build({
  ...common,
  stdin: { contents: engineSource(), resolveDir: src, sourcefile: "engine.ts", loader: "ts" },
  outfile: join(dist, "engine.js"),
  plugins: [moduleUrls],
});
const alone = await build({
  ...common,
  entryPoints: standalone.map((module) => join(src, module)),
  outdir: dist,
  outbase: src,
  plugins: [moduleUrls],
});
for (const file of [...engine.outputFiles, ...alone.outputFiles]) {
  if (file.path === join(dist, "engine.js")) checkShippedNames(file.text);
  const up = relative(dirname(file.path), dist).split(sep).join("/");
  write(file.path, file.text.replaceAll(distRootMark, up === "" ? "./" : `${up}/`));
}
for (const entry of entries) write(join(dist, entry.out), await entrySource(entry));
