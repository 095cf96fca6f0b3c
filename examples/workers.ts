/**
 * Where task bodies run: a warm pool of worker threads that keeps a "model" loaded between
 * calls, a child process with its own environment variables, and an inline task — three
 * levels of nested calls across runtimes.
 *
 *   npx flyte-ts run examples/workers.ts main --texts '["a b", "c d e"]'
 *   # prints { "words": [2, 3], "loads": 1, "processLabel": "tokenizer-process" } (as JSON)
 */
import * as flyte from "flyte-ts";

// Threads (the default runtime), reused: module state such as a loaded model survives between
// calls on the same worker, until idleTtl or flyte.shutdown().
export const warm = new flyte.TaskEnvironment({
  name: "warm-model",
  reusable: new flyte.ReusePolicy({ replicas: 1, idleTtl: 60, concurrency: 4 }),
});

// A child process: its own heap (Resources.memory caps it), its own process.env.
export const isolated = new flyte.TaskEnvironment({
  name: "tokenizer",
  runtime: "process",
  envVars: { LABEL: "tokenizer-process" },
  resources: new flyte.Resources({ memory: "256Mi" }),
});

// Inline: on the controller's own thread (debugging, tiny glue tasks).
export const glue = new flyte.TaskEnvironment({ name: "glue", runtime: "inline" });

let model: { loads: number } | undefined;

export const countWords = warm.task(async function countWords(text: string) {
  // Loaded once per worker, not once per call.
  model ??= { loads: 1 };
  const tokens = await tokenize(text);
  return { words: tokens.length, loads: model.loads };
});

export const tokenize = isolated.task(async function tokenize(text: string) {
  return text.split(/\s+/).filter((t) => t !== "");
});

export const label = isolated.task(async function label() {
  return process.env.LABEL ?? "unset";
});

export const main = glue.task(async function main(texts: string[] = ["a b", "c d e"]) {
  const counts = await Promise.all(texts.map((text) => countWords(text)));
  return {
    words: counts.map((c) => c.words),
    loads: Math.max(...counts.map((c) => c.loads)),
    processLabel: await label(),
  };
});
