/**
 * Quoting for the two languages the emitters write: POSIX shell words (in `RUN` lines and the
 * `kubectl` hints) and Dockerfile `ENV` values.
 * @module
 */

const safeWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes `word` for a POSIX shell: left as it is when it has only safe characters, else in
 * single quotes (a `'` inside becomes `'\''`).
 * @example
 * ```ts
 * shellQuote("numpy>=1.26"); // "'numpy>=1.26'"
 * ```
 */
export function shellQuote(word: string): string {
  if (word !== "" && safeWord.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes every word and joins them with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

/**
 * A Dockerfile `ENV` value in double quotes: `"`, `\` and `$` escaped so the value arrives as
 * written (no variable expansion).
 */
export function dockerEnvValue(value: string): string {
  return `"${value.replace(/["\\$]/g, (c) => `\\${c}`).replaceAll("\n", "\\n")}"`;
}
