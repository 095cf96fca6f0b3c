/**
 * Offload: `train` needs eight H100s, which this host does not have, so its environment says
 * `offload: "kubernetes"`. In a `"hybrid"` run `main` and `tokenize` run here and each `train`
 * call becomes a Kubernetes Job; a dry run (below) only writes what would be submitted for the
 * root action: its Dockerfile and build context, job.yaml, inputs file and code bundle.
 *
 *   npx tsx examples/offload.ts          # dry run: prints the folder it wrote
 *   npx flyte-ts build examples/offload.ts --out build
 *   npx flyte-ts deploy --dry-run examples/offload.ts --out deploy
 */
import * as flyte from "flyte-ts";

export const prep = new flyte.TaskEnvironment({ name: "prep" });

export const gpu = new flyte.TaskEnvironment({
  name: "gpu-train",
  offload: "kubernetes",
  resources: new flyte.Resources({
    cpu: 16,
    memory: ["128Gi", "160Gi"],
    gpu: "H100:8",
    shm: "32Gi",
  }),
  image: flyte.Image.auto({ registry: "ghcr.io/my-org", name: "trainer" }).withAptPackages("git"),
  secrets: ["HF_TOKEN"],
  envVars: { NCCL_DEBUG: "WARN" },
  dependsOn: [prep],
});

export const tokenize = prep.task(async function tokenize(text: string): Promise<string[]> {
  return text.split(/\s+/).filter((word) => word !== "");
});

export const train = gpu.task(
  { retries: 2, timeout: "2h" },
  async function train(tokens: string[]): Promise<{ steps: number }> {
    return { steps: tokens.length * 100 };
  },
);

export const main = prep.task(async function main(text: string = "the quick brown fox") {
  return train(await tokenize(text));
});

flyte.main(import.meta, async () => {
  const run = await flyte
    .withRunContext({ dryRun: true, name: "offload-demo" })
    .run(main, "hello offload world");
  console.log(`emitted into ${run.url}`);
});
