import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { writeSecretFiles } from "../../../src/execution/secret-files.js";

const cert = new flyte.Secret({ key: "cert", group: "tls", mount: "/etc/flyte/secrets" });
const plain = new flyte.Secret({ key: "PLAIN_TOKEN" });

describe("writeSecretFiles", () => {
  it("writes each mounted secret as <group>/<key>, mode 0600, in a private folder it removes", async () => {
    const files = await writeSecretFiles([cert, plain], {
      TLS_CERT: "-----BEGIN-----",
      PLAIN_TOKEN: "x",
    });
    if (files === undefined) throw new Error("expected secret files");
    const file = join(files.dir, "tls", "cert");
    expect(await readFile(file, "utf8")).toBe("-----BEGIN-----");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(files.dir)).mode & 0o777).toBe(0o700);
    expect(existsSync(join(files.dir, "PLAIN_TOKEN"))).toBe(false);
    await files.remove();
    await files.remove();
    expect(existsSync(files.dir)).toBe(false);
  });

  it("writes nothing when no secret is mounted", async () => {
    expect(await writeSecretFiles([plain], { PLAIN_TOKEN: "x" })).toBeUndefined();
  });

  it("refuses a mounted secret whose key or group is not a file name", () => {
    expect(
      () => new flyte.Secret({ key: "../etc/passwd", mount: "/etc/flyte/secrets", asEnvVar: "X" }),
    ).toThrow(/cannot contain "\/"/);
  });
});

describe("a task with a mounted secret", () => {
  it("reads it as a file under ctx().secretsDir, a new folder per attempt, removed afterwards", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "flyte-ts-secret-files-"));
    await writeFile(join(cacheDir, "secrets.env"), "TLS_CERT=pem-bytes\n");
    await chmod(join(cacheDir, "secrets.env"), 0o600);
    const env = new flyte.TaskEnvironment({
      name: "secret-files",
      runtime: "inline",
      secrets: [cert],
    });
    const seen: { dir: string; text: string }[] = [];
    const readsCert = env.task(
      { retries: new flyte.RetryStrategy({ count: 1, backoff: 0 }) },
      async function readsCert() {
        const dir = flyte.ctx()?.secretsDir as string;
        seen.push({ dir, text: await readFile(join(dir, cert.relativePath), "utf8") });
        if (flyte.ctx()?.attemptNumber === 0) throw new Error("retry me");
        return "ok";
      },
    );
    const run = await flyte.withRunContext({ cacheDir }).run(readsCert);
    expect(await run.outputs()).toBe("ok");
    expect(seen.map((s) => s.text)).toEqual(["pem-bytes", "pem-bytes"]);
    expect(seen[0]?.dir).not.toBe(seen[1]?.dir);
    for (const { dir } of seen) expect(existsSync(dir)).toBe(false);
  });

  it("leaves ctx().secretsDir undefined when no secret is mounted", async () => {
    const env = new flyte.TaskEnvironment({ name: "no-secret-files", runtime: "inline" });
    const reads = env.task(async function readsNoSecretsDir() {
      return flyte.ctx()?.secretsDir ?? "none";
    });
    const cacheDir = await mkdtemp(join(tmpdir(), "flyte-ts-secret-files-"));
    expect(await (await flyte.withRunContext({ cacheDir }).run(reads)).outputs()).toBe("none");
  });
});
