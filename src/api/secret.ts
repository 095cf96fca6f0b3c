/**
 * Secrets a task needs, by name only: {@link Secret} and {@link normalizeSecrets}.
 * flyte-ts never stores a secret's value in a definition; the engine resolves it when a worker starts.
 * @module
 */
import { sha256Hex } from "../internal/hash.js";
import { checkKeys, describe, Problems } from "../internal/problems.js";

/** The only mount path a secret may ask for. */
export const SECRET_MOUNT_PATH = "/etc/flyte/secrets";

const envVarPattern = /^[A-Z_][A-Z0-9_]*$/;

/** Options of {@link Secret}. */
export interface SecretOptions {
  /** The secret's name in the secret store, e.g. `"api-key"`. */
  key: string;
  /** The group (namespace) of the secret in the store, e.g. `"openai"`. */
  group?: string;
  /**
   * Also make the secret a file, `<mount>/<group>/<key>` (or `<mount>/<key>` without a group);
   * only {@link SECRET_MOUNT_PATH} is supported, as upstream. In a pod that is the path; on this
   * host each attempt gets a private folder in its place, `flyte.ctx().secretsDir`.
   */
  mount?: string;
  /**
   * The environment variable the secret is exposed as; must match `^[A-Z_][A-Z0-9_]*$`.
   * @default UPPER(`group_key` or `key`) with `-` replaced by `_`
   */
  asEnvVar?: string;
}

/**
 * A secret a task needs, by name. Its value is read from the secret store (locally: the host's
 * environment or a secrets file) when a worker starts and is exposed to the task as the
 * environment variable {@link Secret.envVarName}.
 *
 * @example
 * ```ts
 * new flyte.Secret({ key: "api-key", group: "openai" }).envVarName; // "OPENAI_API_KEY"
 * env.task({ secrets: ["HF_TOKEN", new flyte.Secret({ key: "db", asEnvVar: "DATABASE_URL" })] }, fn);
 * ```
 */
export class Secret {
  /** The secret's name in the store. */
  readonly key: string;
  /** The secret's group in the store, or `undefined`. */
  readonly group: string | undefined;
  /** The file mount folder, or `undefined` when not mounted as a file. */
  readonly mount: string | undefined;
  /** The environment variable name given, or `undefined` when derived. */
  readonly asEnvVar: string | undefined;
  /** The environment variable the task reads the secret from: `asEnvVar`, or derived from group and key. */
  readonly envVarName: string;
  /** 16 hex digits identifying this secret's settings; equal settings give equal identities. */
  readonly identity: string;

  /** @throws InvalidConfigError listing every invalid option, each with its path. */
  constructor(options: SecretOptions) {
    const problems = new Problems("Secret");
    checkKeys(problems, options, ["key", "group", "mount", "asEnvVar"]);
    const { key, group, mount, asEnvVar } = options ?? ({} as SecretOptions);
    if (typeof key !== "string" || key.trim() === "") {
      problems.add(
        "key",
        `Expected \`key\` to be the secret's non-empty name, got ${describe(key)}.`,
      );
    }
    if (group !== undefined && (typeof group !== "string" || group.trim() === "")) {
      problems.add(
        "group",
        `Expected \`group\` to be a non-empty string, got ${describe(group)}. Leave it out for no group.`,
      );
    }
    if (mount !== undefined && mount !== SECRET_MOUNT_PATH) {
      problems.add(
        "mount",
        `Only ${SECRET_MOUNT_PATH} is supported as \`mount\`, got ${describe(mount)}. Leave \`mount\` out to expose the secret as an environment variable only.`,
      );
    }
    if (mount !== undefined) {
      for (const [path, part] of [
        ["key", key],
        ["group", group],
      ] as const) {
        if (typeof part === "string" && (/[/\\]/.test(part) || part === "." || part === "..")) {
          problems.add(
            path,
            `A mounted secret's \`${path}\` names its file, so it cannot contain "/" or be "." or "..", got ${describe(part)}.`,
          );
        }
      }
    }
    if (asEnvVar !== undefined && (typeof asEnvVar !== "string" || !envVarPattern.test(asEnvVar))) {
      problems.add(
        "asEnvVar",
        `Invalid environment variable name: expected \`asEnvVar\` to match ^[A-Z_][A-Z0-9_]*$, got ${describe(asEnvVar)}.`,
      );
    }
    const derived =
      typeof key === "string"
        ? (typeof group === "string" ? `${group}_${key}` : key).toUpperCase().replaceAll("-", "_")
        : "";
    if (
      asEnvVar === undefined &&
      typeof key === "string" &&
      key.trim() !== "" &&
      !envVarPattern.test(derived)
    ) {
      problems.add(
        "asEnvVar",
        `The secret ${describe(key)} would be exposed as ${describe(derived)}, which is not a valid environment variable name. Pass \`asEnvVar\`, e.g. "${derived.replace(/[^A-Z0-9_]/g, "_").replace(/^(\d)/, "_$1")}".`,
      );
    }
    problems.throwIfAny();
    this.key = key;
    this.group = group;
    this.mount = mount;
    this.asEnvVar = asEnvVar;
    this.envVarName = asEnvVar ?? derived;
    // As upstream: the name is derived (and so part of the identity) only when there is no file mount.
    const envPart = asEnvVar ?? (mount === undefined ? derived : "");
    this.identity = sha256Hex(`${key}|${group ?? ""}|${mount ?? ""}|${envPart}`).slice(0, 16);
    Object.freeze(this);
  }

  /**
   * Returns `request` if it already is a Secret; a string is the key.
   * @example
   * ```ts
   * Secret.from("HF_TOKEN").envVarName; // "HF_TOKEN"
   * ```
   */
  static from(request: string | Secret | SecretOptions): Secret {
    if (request instanceof Secret) return request;
    return new Secret(typeof request === "string" ? { key: request } : request);
  }

  /**
   * Where a mounted secret's file is, relative to its mount folder: `"<group>/<key>"`, or
   * `"<key>"` without a group.
   * @example
   * ```ts
   * const secret = new flyte.Secret({ key: "cert", group: "tls", mount: "/etc/flyte/secrets" });
   * await readFile(join(flyte.ctx()!.secretsDir!, secret.relativePath), "utf8");
   * ```
   */
  get relativePath(): string {
    return this.group === undefined ? this.key : `${this.group}/${this.key}`;
  }

  /** `Secret(group/key)`; never a value. */
  toString(): string {
    return `Secret(${this.group === undefined ? "" : `${this.group}/`}${this.key})`;
  }

  /** Only the key and group; never a value. */
  toJSON(): { key: string; group?: string } {
    return this.group === undefined ? { key: this.key } : { key: this.key, group: this.group };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Anything a `secrets` option accepts: a key, a {@link Secret}, its options, or a list of them. */
export type SecretRequest =
  | string
  | Secret
  | SecretOptions
  | readonly (string | Secret | SecretOptions)[];

/**
 * Turns a `secrets` option into a list of {@link Secret}s, dropping duplicates (same identity).
 *
 * @throws InvalidConfigError listing every invalid entry (path `[i]`), and two different secrets
 *   that would set the same environment variable
 * @example
 * ```ts
 * normalizeSecrets(["A", "A", { key: "b" }]).map((s) => s.envVarName); // ["A", "B"]
 * ```
 */
export function normalizeSecrets(request: SecretRequest | undefined): readonly Secret[] {
  if (request === undefined) return Object.freeze([]);
  const problems = new Problems("secrets");
  const list: readonly unknown[] = Array.isArray(request) ? request : [request];
  const byIdentity = new Map<string, Secret>();
  const byEnvVar = new Map<string, number>();
  list.forEach((entry, i) => {
    const path = Array.isArray(request) ? `[${i}]` : "";
    const secret = problems.nested(path, () => Secret.from(entry as SecretOptions));
    if (secret === undefined || byIdentity.has(secret.identity)) return;
    const other = byEnvVar.get(secret.envVarName);
    if (other !== undefined) {
      problems.add(
        path,
        `Secrets [${other}] and [${i}] would both set ${secret.envVarName}. Give one of them a different \`asEnvVar\`.`,
      );
    }
    byIdentity.set(secret.identity, secret);
    byEnvVar.set(secret.envVarName, i);
  });
  problems.throwIfAny();
  return Object.freeze([...byIdentity.values()]);
}
