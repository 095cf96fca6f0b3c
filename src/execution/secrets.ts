/**
 * Resolves a task's secrets for a local run: the host's environment variable of the secret's
 * name, else `<flyte dir>/secrets.env` (mode 0600). Values go only into the workers'
 * environment; they never appear in messages, errors or records.
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Secret } from "../api/secret.js";
import { RuntimeUserError } from "../errors.js";
import { knownSecrets, secretNamesVariable } from "../internal/secret-mask.js";

/**
 * Reads `secrets.env` in `home` (lines `NAME=value`, `#` comments) if it exists.
 * @throws RuntimeUserError when the file is readable by others than its owner.
 */
async function readSecretsFile(path: string): Promise<Map<string, string>> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch {
    return new Map();
  }
  if ((mode & 0o077) !== 0) {
    throw new RuntimeUserError(
      `${path} can be read by other users (mode ${(mode & 0o777).toString(8)}). Run \`chmod 600 ${path}\`.`,
      { code: "SecretsFileModeError" },
    );
  }
  const values = new Map<string, string>();
  for (const line of (await readFile(path, "utf8")).split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const eq = trimmed.indexOf("=");
    if (eq <= 0) continue;
    let value = trimmed.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    values.set(trimmed.slice(0, eq).trim(), value);
  }
  return values;
}

/**
 * The environment variables that carry `secrets`, by each secret's `envVarName`, plus
 * `FLYTE_TS_SECRETS` listing their names (so a worker can mask the values in what it echoes).
 * Every value is registered with {@link knownSecrets}, so flyte-ts masks it wherever it writes.
 * @throws RuntimeUserError naming both places when a secret is found in neither.
 */
export async function resolveSecrets(
  taskName: string,
  secrets: readonly Secret[],
  home: string,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  if (secrets.length === 0) return {};
  const path = join(home, "secrets.env");
  let file: Map<string, string> | undefined;
  const resolved: Record<string, string> = {};
  const missing: string[] = [];
  for (const secret of secrets) {
    const name = secret.envVarName;
    const fromHost = hostEnv[name];
    if (fromHost !== undefined) {
      resolved[name] = fromHost;
      continue;
    }
    file ??= await readSecretsFile(path);
    const fromFile = file.get(name);
    if (fromFile !== undefined) resolved[name] = fromFile;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const names = missing.map((n) => `\`${n}\``).join(", ");
    throw new RuntimeUserError(
      `Task \`${taskName}\` needs the secret${missing.length > 1 ? "s" : ""} ${names}, found neither in the host environment ` +
        `nor in ${path}. Set the environment variable, or add a line \`${missing[0]}=...\` to ${path} (mode 0600).`,
      { code: "SecretNotFoundError" },
    );
  }
  for (const value of Object.values(resolved)) knownSecrets.add(value);
  resolved[secretNamesVariable] = Object.keys(resolved).join(",");
  return resolved;
}
