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
   * stacks included) masked. Copy-on-write: returns `value` itself when it holds no known secret,
   * so `maskValue(v) !== v` tells that it held one. Sparse arrays keep their holes, cycles are
   * kept; typed arrays, dates and other binary data are returned as they are.
   */
  maskValue<T>(value: T): T {
    if (this.#compiled() === undefined) return value;
    return this.#mask(value, new Map()) as T;
  }

  #mask(value: unknown, seen: Map<object, unknown>): unknown {
    if (typeof value === "string") return this.maskText(value);
    if (value === null || typeof value !== "object") return value;
    if (seen.has(value)) return seen.get(value);
    seen.set(value, value);
    let result: unknown = value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) continue;
        const item = value[i];
        const masked = this.#mask(item, seen);
        if (masked !== item) {
          copy ??= value.slice();
          copy[i] = masked;
        }
      }
      result = copy ?? value;
    } else if (value instanceof Map) {
      let changed = false;
      const entries: [unknown, unknown][] = [];
      for (const [k, v] of value) {
        const mk = this.#mask(k, seen);
        const mv = this.#mask(v, seen);
        changed ||= mk !== k || mv !== v;
        entries.push([mk, mv]);
      }
      result = changed ? new Map(entries) : value;
    } else if (value instanceof Set) {
      let changed = false;
      const items: unknown[] = [];
      for (const item of value) {
        const masked = this.#mask(item, seen);
        changed ||= masked !== item;
        items.push(masked);
      }
      result = changed ? new Set(items) : value;
    } else if (value instanceof Error) {
      result = this.#maskError(value, seen);
    } else {
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        let copy: Record<string, unknown> | undefined;
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        for (const key of keys) {
          const item = record[key];
          const maskedKey = this.maskText(key);
          const masked = this.#mask(item, seen);
          if (masked !== item || maskedKey !== key) {
            copy ??= Object.assign(Object.create(proto) as Record<string, unknown>, record);
            if (maskedKey !== key) delete copy[key];
            copy[maskedKey] = masked;
          }
        }
        result = copy ?? value;
      }
    }
    seen.set(value, result);
    return result;
  }

  #maskError(error: Error, seen: Map<object, unknown>): Error {
    const message = this.maskText(error.message);
    const stack = error.stack === undefined ? undefined : this.maskText(error.stack);
    const cause = "cause" in error ? this.#mask(error.cause, seen) : undefined;
    if (message === error.message && stack === error.stack && cause === error.cause) return error;
    const copy = Object.create(Object.getPrototypeOf(error)) as Error;
    for (const key of Object.getOwnPropertyNames(error)) {
      const descriptor = Object.getOwnPropertyDescriptor(error, key) as PropertyDescriptor;
      if ("value" in descriptor) descriptor.value = this.#mask(descriptor.value, seen);
      Object.defineProperty(copy, key, descriptor);
    }
    const data = { writable: true, configurable: true, enumerable: false };
    Object.defineProperty(copy, "message", { ...data, value: message });
    if (stack !== undefined) Object.defineProperty(copy, "stack", { ...data, value: stack });
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

/**
 * The secret values known to this process: those the controller resolved for its tasks, and in
 * a worker those named by `FLYTE_TS_SECRETS` in its environment.
 */
export const knownSecrets: SecretMask = new SecretMask(process.env);
