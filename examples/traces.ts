/**
 * Traces: `flyte.trace` records each call of a helper inside a task, so when the task's attempt
 * fails and is retried, completed traced calls replay their recorded results instead of running
 * again — use it for expensive or side-effecting steps (LLM calls, paid APIs).
 *
 *   npx flyte-ts run examples/traces.ts summarize --texts '["a b", "c d e"]'
 */
import * as flyte from "flyte-ts";

// Module state counts real calls. It is shared by every attempt only because the environment
// runs inline: a worker thread or process has its own copy of the module.
export const env = new flyte.TaskEnvironment({ name: "traces", runtime: "inline" });

const embedCalls = new Map<string, number>();
let tokenizeCalls = 0;

/** An async helper: the "expensive" call. */
const embed = flyte.trace(async function embed(text: string): Promise<number[]> {
  embedCalls.set(text, (embedCalls.get(text) ?? 0) + 1);
  return [...text].map((c) => c.charCodeAt(0) % 7);
});

/** An async generator: its items are recorded and replayed as a whole. */
const tokenize = flyte.trace(async function* tokenize(text: string): AsyncGenerator<string> {
  tokenizeCalls++;
  for (const word of text.split(/\s+/)) if (word) yield word;
});

/** Embeds and tokenizes every text, then fails once; its retry replays the traced calls. */
export const summarize = env.task(
  { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
  async function summarize(texts: string[] = ["hello world", "flyte traces"]) {
    const attempt = flyte.ctx()?.attemptNumber ?? 0;
    const vectors = await Promise.all(texts.map((text) => embed(text)));
    const words: string[] = [];
    for await (const word of tokenize(texts.join(" "))) words.push(word);
    if (attempt === 0) throw new Error("a transient failure after the traced calls");
    return {
      attempt,
      words,
      dimensions: vectors.map((v) => v.length),
      embedCalls: Object.fromEntries(embedCalls),
      tokenizeCalls,
    };
  },
);

flyte.main(import.meta, async () => {
  const run = await flyte.run(summarize, ["hello world", "flyte traces"]);
  console.log(await run.outputs());
});
