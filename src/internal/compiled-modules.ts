/**
 * Which modules ran from a compiled copy: a TypeScript module imported without tsx's loader runs
 * as JavaScript compiled into a cache folder (`execution/typescript-import.ts`). Its tasks are
 * still named by the module as written (a worker, a resume, an offloaded job import that), so
 * the code that finds a caller's module asks here for the source of a compiled file.
 * @module
 */

const sourceOfCompiled = new Map<string, string>();

/** Records that the module at `compiledUrl` is `sourceUrl` compiled. */
export function rememberCompiled(compiledUrl: string, sourceUrl: string): void {
  sourceOfCompiled.set(compiledUrl, sourceUrl);
}

/**
 * The URL of the module as written: `url` itself unless it is a compiled copy.
 *
 * @example
 * ```ts
 * sourceUrlOf("file:///app/node_modules/.cache/flyte-ts/main-1f2e.mjs"); // "file:///app/main.ts"
 * ```
 */
export function sourceUrlOf(url: string): string {
  return sourceOfCompiled.get(url) ?? url;
}
