/**
 * Collects every problem of a definition so that one {@link InvalidConfigError} can report them
 * all at once, each with its path.
 * @module
 */
import { type ConfigProblem, InvalidConfigError } from "../errors.js";

/** Describes a value for an error message: `"hello"`, `42`, `an object`, `a function`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `an instance of ${name}` : "an object";
}

/** A list of problems being gathered for one definition. */
export class Problems {
  readonly #subject: string;
  readonly #list: ConfigProblem[] = [];

  /** @param subject what is being defined, e.g. `TaskEnvironment "training"` */
  constructor(subject: string) {
    this.#subject = subject;
  }

  /** Records one problem at `path`. */
  add(path: string, message: string): void {
    this.#list.push({ path, message });
  }

  /** Whether anything was recorded. */
  get empty(): boolean {
    return this.#list.length === 0;
  }

  /**
   * Runs `build`; if it throws an {@link InvalidConfigError} its problems are recorded under
   * `path`, if it throws a `TypeError` or `RangeError` its message is recorded at `path`.
   * Returns the built value, or `undefined` when it failed.
   */
  nested<T>(path: string, build: () => T): T | undefined {
    try {
      return build();
    } catch (error) {
      if (error instanceof InvalidConfigError) {
        for (const p of error.problems) this.add(p.path ? `${path}.${p.path}` : path, p.message);
        return undefined;
      }
      if (error instanceof TypeError || error instanceof RangeError) {
        this.add(path, error.message);
        return undefined;
      }
      throw error;
    }
  }

  /** Throws one {@link InvalidConfigError} listing everything recorded, if anything was. */
  throwIfAny(): void {
    if (this.#list.length > 0) throw new InvalidConfigError(this.#subject, [...this.#list]);
  }
}

/**
 * Checks that an options argument is a plain object whose keys are all known; records
 * unknown keys with the list of known ones.
 */
export function checkKeys(
  problems: Problems,
  options: unknown,
  known: readonly string[],
  path = "",
): options is Record<string, unknown> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    problems.add(path, `Expected an options object, got ${describe(options)}.`);
    return false;
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      problems.add(
        path ? `${path}.${key}` : key,
        `Unknown option \`${key}\`. Known options: ${known.map((k) => `\`${k}\``).join(", ")}.`,
      );
    }
  }
  return true;
}
