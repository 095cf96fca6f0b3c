// Fractional GPUs (Ray's num_gpus=0.5): small evaluations share a GPU, two at a time, and see the
// same CUDA_VISIBLE_DEVICES; a task that asks for a whole GPU waits until one is entirely free.
// Without GPUs, simulate them:
//   FLYTE_TS_FAKE_DEVICES="H100:2" npx tsx examples/gpu-shares.ts
//   FLYTE_TS_FAKE_DEVICES="H100:2" npx flyte-ts run examples/gpu-shares.ts sweep --n 6
import * as flyte from "flyte-ts";

export const small = new flyte.TaskEnvironment({
  name: "small-evals",
  // Half an H100 each: two evaluations run on one device at once (also written `gpu: 0.5`).
  resources: new flyte.Resources({ gpu: flyte.GPU("H100", 1, { fraction: 0.5 }) }),
});

export const big = new flyte.TaskEnvironment({
  name: "big-train",
  // A whole H100: never placed on a device that evaluations are sharing.
  resources: new flyte.Resources({ gpu: "H100:1" }),
});

export const evaluate = small.task(async function evaluate(checkpoint: number) {
  const [device] = flyte.ctx()!.devices;
  // Stands in for a short GPU job, long enough for evaluations to overlap.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    checkpoint,
    gpu: device?.index,
    share: device?.share,
    visible: process.env.CUDA_VISIBLE_DEVICES,
  };
});

export const train = big.task(async function train() {
  const [device] = flyte.ctx()!.devices;
  return { gpu: device?.index, share: device?.share, visible: process.env.CUDA_VISIBLE_DEVICES };
});

export const driver = new flyte.TaskEnvironment({ name: "gpu-shares" });

export const sweep = driver.task(async function sweep(n: number = 6) {
  const checkpoints = Array.from({ length: n }, (_, i) => i);
  const [evals, whole] = await Promise.all([
    Promise.all(checkpoints.map((c) => evaluate(c))),
    train(),
  ]);
  return [
    ...evals.map((e) => `eval ${e.checkpoint} on GPU ${e.gpu} (share ${e.share}) ${e.visible}`),
    `train on GPU ${whole.gpu} (whole) ${whole.visible}`,
  ];
});

flyte.main(import.meta, async () => {
  const run = await flyte.run(sweep, 6);
  for (const line of await run.outputs()) console.log(line);
});
