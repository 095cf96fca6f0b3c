// A hybrid run with a kubeconfig: the offloaded action is submitted with @kubernetes/client-node
// to a stand-in API server on the loopback address, which "schedules" the Job by running its
// container command as a local subprocess; the run watches the Job and reads its outputs back.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { withRunContext } from "flyte-ts";
import { Job } from "kubernetes-models/batch/v1";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { binPath, ensureBuilt } from "../fixtures/cli/cli-process.js";
import { driver } from "../fixtures/offload/app.js";

interface FakeJob {
  body: Record<string, unknown>;
  exitCode: number | undefined;
}

let scratch: string;
let server: Server;
const jobs = new Map<string, FakeJob>();
const requests: string[] = [];

function startContainer(job: FakeJob): void {
  const spec = job.body.spec as {
    template: { spec: { containers: { command: string[]; args: string[] }[] } };
  };
  const container = spec.template.spec.containers[0] as { command: string[]; args: string[] };
  const [command, ...args] = [...container.command, ...container.args];
  const cwd = join(scratch, `pod-${jobs.size}`);
  mkdir(cwd, { recursive: true }).then(() => {
    execFile(
      command as string,
      args,
      {
        cwd,
        env: { ...process.env, PATH: `${join(scratch, "bin")}${delimiter}${process.env.PATH}` },
      },
      (error) => {
        job.exitCode = error === null ? 0 : 1;
      },
    );
  });
}

function handle(method: string, url: string, body: string): [number, unknown] {
  requests.push(`${method} ${url.split("?")[0]}`);
  const create = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(url.split("?")[0] ?? "");
  if (method === "POST" && create) {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    new Job(parsed as never).validate();
    const name = (parsed.metadata as { name: string }).name;
    const job: FakeJob = { body: parsed, exitCode: undefined };
    jobs.set(name, job);
    startContainer(job);
    return [201, parsed];
  }
  const status = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)\/status$/.exec(
    url.split("?")[0] ?? "",
  );
  const job = status ? jobs.get(status[2] as string) : undefined;
  if (method === "GET" && job) {
    const done =
      job.exitCode === undefined ? {} : job.exitCode === 0 ? { succeeded: 1 } : { failed: 1 };
    const type = job.exitCode === 0 ? "Complete" : "Failed";
    const conditions = job.exitCode === undefined ? [] : [{ type, status: "True" }];
    return [
      200,
      { ...job.body, status: { active: job.exitCode === undefined ? 1 : 0, ...done, conditions } },
    ];
  }
  return [404, { kind: "Status", apiVersion: "v1", status: "Failure", code: 404 }];
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "flyte-ts-submit-"));
  await mkdir(join(scratch, "bin"));
  await symlink(binPath, join(scratch, "bin", "flyte-ts"));
  await ensureBuilt();
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const [code, payload] = handle(request.method ?? "", request.url ?? "", body);
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: fake\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
    "users:",
    "- name: tester\n  user:\n    token: not-a-secret",
    "contexts:",
    "- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: flyte",
    "current-context: fake",
    "",
  ].join("\n");
  await writeFile(join(scratch, "kubeconfig"), kubeconfig);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

describe("a hybrid run with a kubeconfig context", () => {
  test("submits the offloaded action's Job, watches it to completion and reads its outputs back", async () => {
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = join(scratch, "kubeconfig");
    try {
      const run = await withRunContext({
        mode: "hybrid",
        name: "submitted",
        runBaseDir: join(scratch, "run"),
        rawDataPath: join(scratch, "shared"),
        copyBundleTo: join(scratch, "emit"),
        cacheDir: join(scratch, "home"),
      }).run(driver, 4);
      expect(await run.outputs()).toBe(41);
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
    expect(requests[0]).toBe("POST /apis/batch/v1/namespaces/flyte/jobs");
    expect(requests).toContain(
      `GET /apis/batch/v1/namespaces/flyte/jobs/${[...jobs.keys()][0]}/status`,
    );
    expect(jobs.size).toBe(1);
    const [name] = [...jobs.keys()];
    expect(name).toMatch(/^submitted-\w+-0$/);
  });
});
