// The build's second step (after `tsc`, which writes the .d.ts files): bundles src/ into dist/
// with esbuild, one ES module file per entry point and shared chunks for the code entries have in
// common, so a cold `flyte-ts run` reads a few files instead of about 180 (cold start, issue 11).
//
// Every module still has exactly one instance per process: `flyte-ts` (dist/index.js), the CLI
// (dist/cli/main.js) and the engine modules loaded by URL are entry points over the same chunks,
// so a program importing `flyte-ts` and the CLI running it share the engine's state.
//
// A module's `import.meta.url` is rewritten to the URL the module had before bundling
// (dist/<folder>/<name>.js), so the paths it computes from it (the worker entry, the run store's
// writer thread, package.json, the native addon) stay what they were, whichever chunk holds it.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

/**
 * The entry points: the package's exports, the CLI, and every module the engine loads by URL
 * (`new URL("./x.js", import.meta.url)`) rather than by an import esbuild can follow.
 */
const entryPoints = [
  "index.ts",
  "testing.ts",
  "cli/main.ts",
  "execution/worker-entry.ts", // worker-handle.ts: the worker program
  "execution/engine-hooks.ts", // task-loader.ts: module.register
  "execution/vitest-stub.ts", // task-loader.ts: what a worker's "vitest" resolves to
  "record/run-store-writer-thread.ts", // run-store-writer.ts: the writer thread
].map((entry) => join(src, entry));

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

/** Deletes the JavaScript of earlier builds (tsc's per-module files among them); keeps the .d.ts. */
function removeJavaScript(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) removeJavaScript(path);
    else if (/\.js(\.map)?$/.test(name)) rmSync(path);
  }
}

removeJavaScript(dist);
const result = await build({
  entryPoints,
  outdir: dist,
  outbase: src,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  tsconfig: join(root, "tsconfig.build.json"),
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: true,
  sourcesContent: false,
  plugins: [moduleUrls],
  write: false,
  logLevel: "warning",
});
/**
 * Functions whose source the engine ships by `toString()` (the report page's script calls them
 * by name): esbuild renames a function whose name another module in its chunk also declares,
 * which would break the page, so the build refuses to.
 */
const shippedByName = ["formatMs", "barDetail"];
for (const name of shippedByName) {
  const texts = result.outputFiles.map((file) => file.text);
  const declared = texts.some((text) => text.includes(`\nfunction ${name}(`));
  const renamed = texts.some((text) => new RegExp(`\\bfunction ${name}\\d+\\(`).test(text));
  if (!declared || renamed) {
    throw new Error(
      `bundle-dist: function ${name} was renamed in the bundle (another module declares the same name); rename one of them.`,
    );
  }
}
for (const file of result.outputFiles) {
  const up = relative(dirname(file.path), dist).split(sep).join("/");
  const text = file.path.endsWith(".js")
    ? file.text.replaceAll(distRootMark, up === "" ? "./" : `${up}/`)
    : file.text;
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}
