/**
 * Secrets as files: a `Secret` with `mount` is written, for one attempt, into a private folder
 * laid out as the cluster mounts it under `/etc/flyte/secrets` (`<group>/<key>`, or `<key>` without
 * a group). The folder is the attempt's `flyte.ctx().secretsDir` and is removed when the attempt
 * ends.
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Secret } from "../api/secret.js";

/** The files of one attempt's mounted secrets. */
export interface SecretFiles {
  /** The attempt's folder, the local stand-in for `/etc/flyte/secrets`. */
  readonly dir: string;
  /** Removes the folder and its files. Idempotent. */
  remove(): Promise<void>;
}

// Folders not removed yet: removed when the process exits, should an attempt never end.
const live = new Set<string>();
let exitHookSet = false;

function removeAllOnExit(): void {
  if (exitHookSet) return;
  exitHookSet = true;
  process.once("exit", () => {
    for (const dir of live) rmSync(dir, { recursive: true, force: true });
  });
}

/** Where attempt folders go: RAM-backed `/dev/shm` when there is one, else the temp folder. */
function secretsRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/**
 * Writes the mounted ones of `secrets` (their values from `values`, by `envVarName`) into a new
 * private folder: the folder mode 0700, each file 0600. `undefined` when none is mounted.
 *
 * @example
 * ```ts
 * const files = await writeSecretFiles(template.secrets, resolved);
 * try { ... } finally { await files?.remove(); }
 * ```
 */
export async function writeSecretFiles(
  secrets: readonly Secret[],
  values: Readonly<Record<string, string>>,
): Promise<SecretFiles | undefined> {
  const mounted = secrets.filter((secret) => secret.mount !== undefined);
  if (mounted.length === 0) return undefined;
  // mkdtemp creates the folder with mode 0700: only this user can list or open what is inside.
  const dir = await mkdtemp(join(secretsRoot(), "flyte-ts-secrets-"));
  live.add(dir);
  removeAllOnExit();
  const remove = async () => {
    if (!live.delete(dir)) return;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const secret of mounted) {
      const file = join(dir, secret.relativePath);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, values[secret.envVarName] ?? "", { mode: 0o600, flag: "wx" });
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}
