#!/usr/bin/env node
// The `flyte-ts` command. The CLI is the compiled TypeScript in ../dist, which `npm run build`
// writes (`npm install` builds it too, through the prepare script).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
const args = process.argv.slice(2);

// `flyte-ts run`: the run's first worker thread boots now, on the other core, while this thread
// loads the engine and the program (the CLI takes it as the root's worker, or stops it).
if (args[0] === "run" && !args.includes("--help") && !args.includes("-h")) {
  const spare = new URL("../dist/execution/spare-thread.js", import.meta.url);
  if (existsSync(spare)) {
    const { startSpareThread } = await import(spare.href);
    startSpareThread(new URL("../dist/execution/worker-entry.js", import.meta.url));
  }
}

// `flyte-ts runs ls | head`: a reader that stops early is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

if (existsSync(entry)) {
  const { main } = await import(entry.href);
  process.exitCode = await main(args);
} else {
  console.error(
    "flyte-ts: the CLI is not built (dist/cli/main.js is missing). Run `npm run build` in the flyte-ts package (or `npm install`, whose prepare script builds it).",
  );
  process.exitCode = 1;
}
