/**
 * Known secret values, and the one place where they are masked (`***`) before flyte-ts writes or
 * prints anything: captured task output (`logs.jsonl` and the terminal), the run store's recorded
 * values and errors, the run report, the CLI's outputs, errors and `cache show`, warnings.
 *
 * The controller registers every secret value it resolves ({@link knownSecrets}`.add`); a worker
 * registers the values of the environment variables named in `FLYTE_TS_SECRETS` (the controller
 * sets it with the secrets), so its own terminal echo is masked too. The cache keeps real values
 * (it must return them); only what is shown of them is masked.
 *
 * Anything that records action inputs or outputs should pass them through
 * {@link SecretMask.maskValue}, and text through {@link SecretMask.maskText}:
 *
 * @example
 * ```ts
 * import { knownSecrets } from "../internal/secret-mask.js";
 * knownSecrets.add(process.env.HF_TOKEN!);
 * knownSecrets.maskText(`token=${process.env.HF_TOKEN}`); // "token=***"
 * const shown = knownSecrets.maskValue(output);            // `output` itself when it holds no secret
 * if (shown !== output) { ... }                              // it held one
 * ```
 * @module
 */

/** What a masked secret is replaced with. */
export const maskPlaceholder = "***";

/**
 * Values shorter than this are not masked: masking `"ab"` would garble ordinary text. Characters.
 */
export const minimumSecretLength = 4;

/** The environment variable that names (never holds) a worker's secret variables, comma-separated. */
export const secretNamesVariable = "FLYTE_TS_SECRETS";

/**
 * A set of secret values and the masking of text and values that may contain them.
 * Masking covers each value as it is, each of its lines (for multi-line secrets such as keys),
 * and its JSON-escaped form (a value with quotes or backslashes inside JSON text).
 */
export class SecretMask {
  readonly #values = new Set<string>();
  #pattern: RegExp | undefined;
  #fromEnv: NodeJS.ProcessEnv | undefined;

  /**
   * @param env - where {@link secretNamesVariable} is read from on first use (workers);
   * `undefined` to read nothing.
   */
  constructor(env?: NodeJS.ProcessEnv) {
    this.#fromEnv = env;
  }

  /** Adds a secret value; values shorter than {@link minimumSecretLength} are ignored. */
  add(value: string): void {
    if (typeof value !== "string") return;
    const forms = [value, ...value.split(/\r?\n/).map((line) => line.trim())];
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) forms.push(escaped);
    for (const form of forms) {
      if (form.length < minimumSecretLength || this.#values.has(form)) continue;
      this.#values.add(form);
      this.#pattern = undefined;
    }
  }

  /** How many distinct forms of secrets are known (0: masking is a no-op). */
  get size(): number {
    this.#readEnv();
    return this.#values.size;
  }

  /** `text` with every known secret replaced by `***`; `text` itself when it holds none. */
  maskText(text: string): string {
    const pattern = this.#compiled();
    if (pattern === undefined || typeof text !== "string" || text.length < minimumSecretLength) {
      return text;
    }
    pattern.lastIndex = 0;
    if (!pattern.test(text)) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, maskPlaceholder);
  }

  /** Whether `text` holds a known secret. */
  inText(text: string): boolean {
    return this.maskText(text) !== text;
  }

  /**
   * `value` with every string inside (object keys, Map and Set members, error messages and
   * stacks included) masked. Returns `value` itself when it holds no known secret, so
   * `maskValue(v) !== v` tells that it held one; otherwise a masked copy, in which holes of
   * sparse arrays, shared and cyclic references and error classes are kept. Typed arrays, dates
   * and instances of other classes are not looked into (returned as they are).
   */
  maskValue<T>(value: T): T {
    if (this.#compiled() === undefined || !this.#holds(value, new Set())) return value;
    return this.#copy(value, new Map()) as T;
  }

  #holds(value: unknown, seen: Set<object>): boolean {
    if (typeof value === "string") return this.inText(value);
    if (value === null || typeof value !== "object" || seen.has(value)) return false;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (i in value && this.#holds(value[i], seen)) return true;
      }
      return false;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) if (this.#holds(k, seen) || this.#holds(v, seen)) return true;
      return false;
    }
    if (value instanceof Set) {
      for (const item of value) if (this.#holds(item, seen)) return true;
      return false;
    }
    if (value instanceof Error) {
      return (
        this.inText(value.message) ||
        (value.stack !== undefined && this.inText(value.stack)) ||
        this.#holds(value.cause, seen) ||
        Object.keys(value).some((key) => this.#holds((value as never)[key], seen))
      );
    }
    if (!isPlain(value)) return false;
    for (const key of Object.keys(value)) {
      if (this.inText(key) || this.#holds((value as Record<string, unknown>)[key], seen)) {
        return true;
      }
    }
    return false;
  }

  /** A masked deep copy; each object is copied once (registered before its members). */
  #copy(value: unknown, copies: Map<object, unknown>): unknown {
    if (typeof value === "string") return this.maskText(value);
    if (value === null || typeof value !== "object") return value;
    const done = copies.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const copy: unknown[] = new Array(value.length);
      copies.set(value, copy);
      for (let i = 0; i < value.length; i++) {
        if (i in value) copy[i] = this.#copy(value[i], copies);
      }
      return copy;
    }
    if (value instanceof Map) {
      const copy = new Map();
      copies.set(value, copy);
      for (const [k, v] of value) copy.set(this.#copy(k, copies), this.#copy(v, copies));
      return copy;
    }
    if (value instanceof Set) {
      const copy = new Set();
      copies.set(value, copy);
      for (const item of value) copy.add(this.#copy(item, copies));
      return copy;
    }
    if (value instanceof Error) {
      const copy = Object.create(Object.getPrototypeOf(value)) as Error;
      copies.set(value, copy);
      const data = { writable: true, configurable: true, enumerable: false };
      for (const key of Object.getOwnPropertyNames(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
        if ("value" in descriptor) descriptor.value = this.#copy(descriptor.value, copies);
        Object.defineProperty(copy, key, descriptor);
      }
      Object.defineProperty(copy, "message", { ...data, value: this.maskText(value.message) });
      if (value.stack !== undefined) {
        Object.defineProperty(copy, "stack", { ...data, value: this.maskText(value.stack) });
      }
      return copy;
    }
    if (!isPlain(value)) return value;
    const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
    copies.set(value, copy);
    for (const key of Object.keys(value)) {
      // Defined, not assigned: an own "__proto__" key stays a key.
      Object.defineProperty(copy, this.maskText(key), {
        value: this.#copy((value as Record<string, unknown>)[key], copies),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return copy;
  }

  #readEnv(): void {
    const env = this.#fromEnv;
    if (env === undefined) return;
    this.#fromEnv = undefined;
    for (const name of (env[secretNamesVariable] ?? "").split(",")) {
      const value = name === "" ? undefined : env[name];
      if (value !== undefined) this.add(value);
    }
  }

  #compiled(): RegExp | undefined {
    this.#readEnv();
    if (this.#values.size === 0) return undefined;
    if (this.#pattern === undefined) {
      // Longest first, so a secret that contains another is masked whole.
      const alternatives = [...this.#values]
        .sort((a, b) => b.length - a.length)
        .map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      this.#pattern = new RegExp(alternatives.join("|"), "g");
    }
    return this.#pattern;
  }
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The secret values known to this process: those the controller resolved for its tasks, and in
 * a worker those named by `FLYTE_TS_SECRETS` in its environment.
 */
export const knownSecrets: SecretMask = new SecretMask(process.env);
