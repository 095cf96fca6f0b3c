/**
 * Offload to Slurm: `simulate` is the heavy part, so its environment is offloaded to a Slurm
 * cluster. In a `"hybrid"` run `main` runs here, and the `flyte.map` over `simulate` becomes one
 * Slurm job array (`--array=0-2%2`), each item a `flyte-ts execute` of one call, run in this
 * project folder on the filesystem the cluster shares with this host.
 *
 *   npx tsx examples/slurm.ts                                           # sbatch on this host (a login node)
 *   FLYTE_TS_SLURM_HOST=login.hpc.example.edu npx tsx examples/slurm.ts # sbatch on a login host, over SSH
 *
 * Prints each result and the node it ran on. `.ci/slurm-up.sh` starts a one-node cluster to try it.
 */
import { hostname } from "node:os";
import * as flyte from "flyte-ts";

const login = process.env.FLYTE_TS_SLURM_HOST;

export const cluster = new flyte.Slurm(
  login === undefined
    ? {} // sbatch, squeue and scancel run here; the cluster's default partition
    : { host: login, sshArgs: ["-o", "ConnectTimeout=10"] },
);

export const driver = new flyte.TaskEnvironment({ name: "driver" });

export const hpc = new flyte.TaskEnvironment({
  name: "hpc",
  offload: cluster,
  resources: new flyte.Resources({ cpu: 1, memory: "256Mi" }),
  envVars: { SIMULATION_STEPS: "1000" },
});

export const simulate = hpc.task(async function simulate(seed: number) {
  const steps = Number(process.env.SIMULATION_STEPS);
  let x = seed;
  for (let i = 0; i < steps; i++) x = (x * 1103515245 + 12345) % 2 ** 31;
  return { seed, x, node: hostname() };
});

export const main = driver.task(async function main(seeds: number[]) {
  return flyte.map(simulate, seeds, { concurrency: 2, returnExceptions: false });
});

flyte.main(import.meta, async () => {
  const home = process.env.FLYTE_TS_HOME ?? ".flyte";
  const run = await flyte
    .withRunContext({ mode: "hybrid", name: "slurm-demo", runBaseDir: `${home}/runs/slurm-demo` })
    .run(main, [1, 2, 3]);
  for (const { seed, x, node } of await run.outputs()) {
    console.log(`seed ${seed}: ${x} (on ${node === hostname() ? "this host" : node})`);
  }
});
