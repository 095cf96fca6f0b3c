/**
 * Checkpoints: a training loop saves its state after every epoch with
 * `flyte.ctx().checkpoint.save(bytes)` and starts each attempt from `checkpoint.load()`. Its first
 * attempt crashes after epoch 3 (a preempted node, say); the retry goes on from epoch 3 instead
 * of starting over. The same holds after a `maxRuntime` kill, or after the whole program was
 * killed (`kill -9`) and the run resumed with `--resume <run>`.
 *
 *   npx flyte-ts run examples/checkpoints.ts train --epochs 6
 *   # prints {"epochs":6,"loss":0.167,"attempts":[{"attempt":0,"from":0},{"attempt":1,"from":3}]}
 *   npx flyte-ts runs show <run> a0     # attempt 1: ... · from checkpoint (…)
 */
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "checkpoints", runtime: "process" });

interface State {
  epoch: number;
  loss: number;
  attempts: { attempt: number; from: number }[];
}

/** Trains for `epochs` epochs, checkpointing after each; attempt 0 crashes after epoch 3. */
export const train = env.task({ retries: 2 }, async function train(epochs: number) {
  const context = flyte.ctx() as flyte.TaskContext;
  const saved = await context.checkpoint.load();
  const state: State = saved
    ? JSON.parse(saved.toString("utf8"))
    : { epoch: 0, loss: 1, attempts: [] };
  state.attempts.push({ attempt: context.attemptNumber, from: state.epoch });
  while (state.epoch < epochs) {
    state.epoch++;
    state.loss = Math.round(1000 / state.epoch) / 1000;
    await context.checkpoint.save(Buffer.from(JSON.stringify(state)));
    if (context.attemptNumber === 0 && state.epoch === 3) throw new Error("the node was preempted");
  }
  return { epochs: state.epoch, loss: state.loss, attempts: state.attempts };
});
