// A sweep over a few GPUs: eight trainings, each admitted only when a GPU is free and shown the
// one it got. Without GPUs, simulate them:
//   FLYTE_TS_FAKE_DEVICES="H100:4" npx tsx examples/gpus.ts
//   FLYTE_TS_FAKE_DEVICES="H100:4" npx flyte-ts run examples/gpus.ts sweep --n 8
import * as flyte from "flyte-ts";

export const gpus = new flyte.TaskEnvironment({
  name: "gpus",
  // Each training holds one H100, exclusively, while it runs; the others wait their turn.
  resources: new flyte.Resources({ gpu: "H100:1" }),
});

export const train = gpus.task(async function train(seed: number) {
  const [device] = flyte.ctx()!.devices;
  // In a process worker, CUDA_VISIBLE_DEVICES holds this device's uuid.
  return { seed, gpu: device?.index, uuid: device?.id };
});

export const driver = new flyte.TaskEnvironment({ name: "sweep" });

export const sweep = driver.task(async function sweep(n: number = 8) {
  const seeds = Array.from({ length: n }, (_, seed) => seed);
  const runs = await Promise.all(seeds.map((seed) => train(seed)));
  return runs.map((r) => `seed ${r.seed} on GPU ${r.gpu}`);
});

flyte.main(import.meta, async () => {
  const run = await flyte.run(sweep, 8);
  for (const line of await run.outputs()) console.log(line);
});
