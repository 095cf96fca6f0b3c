/**
 * A task's function as written in its module, for the function-body cache version: the text of
 * the function given to `env.task(...)`, found in the original source through the module's
 * source map. `fn.toString()` is what ran — under tsx that is esbuild's output, which renames a
 * function whose name is taken in the same module (`square` becomes `square2`) and so ties one
 * task's version to its neighbours.
 * @module
 */
import { readFileSync } from "node:fs";
import { findSourceMap, type SourceMap } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { regexAfterWords } from "../api/cache.js";
import type { CallLocation } from "../internal/caller.js";

/** What {@link sourceAsWritten} needs of a task. */
export interface DefinedFunction {
  readonly func: Function;
  readonly definedAt: CallLocation | undefined;
}

const sources = new Map<string, string | undefined>();

/**
 * The text of the function passed to the `env.task(...)` call at `definedAt`, as written in the
 * module's source, or `undefined` when it cannot be told: no source map (the code ran as written,
 * so `fn.toString()` is the source), a call whose function is not written inline
 * (`env.task(fn)`), or text that does not declare the function's name.
 *
 * @example
 * ```ts
 * sourceAsWritten(template); // "async function square(x: number) { return x * x; }"
 * ```
 */
export function sourceAsWritten(task: DefinedFunction): string | undefined {
  try {
    return findSource(task);
  } catch {
    // Reading a source map or a module is best effort: the version falls back to fn.toString().
    return undefined;
  }
}

function findSource(task: DefinedFunction): string | undefined {
  const at = task.definedAt;
  if (at === undefined) return undefined;
  const map = sourceMapOf(at.file);
  if (map === undefined) return undefined;
  const entry = map.findEntry(at.line - 1, at.column - 1) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  const { originalSource, originalLine, originalColumn } = entry;
  if (originalSource === undefined || originalLine === undefined || originalColumn === undefined) {
    return undefined;
  }
  const text = originalText(map, at.file, originalSource);
  if (text === undefined) return undefined;
  const offset = offsetOf(text, originalLine, originalColumn);
  if (offset === undefined) return undefined;
  const fn = lastArgumentOfCall(text, offset);
  if (fn === undefined || !declares(fn, task.func.name)) return undefined;
  return fn;
}

function sourceMapOf(file: string): SourceMap | undefined {
  try {
    const url = file.startsWith("file:") ? file : pathToFileURL(file).href;
    const path = file.startsWith("file:") ? fileURLToPath(file) : file;
    return findSourceMap(file) ?? findSourceMap(url) ?? findSourceMap(path);
  } catch {
    return undefined;
  }
}

/** The original module's text: from the map's `sourcesContent`, else read from its file. */
function originalText(map: SourceMap, file: string, source: string): string | undefined {
  const { sources: names, sourcesContent, sourceRoot } = map.payload;
  const base = file.startsWith("file:") ? file : pathToFileURL(file).href;
  const index = names.findIndex((name) => {
    if (name === source) return true;
    try {
      return new URL(`${sourceRoot ?? ""}${name}`, base).href === source;
    } catch {
      return false;
    }
  });
  const embedded = index < 0 ? undefined : sourcesContent?.[index];
  if (typeof embedded === "string") return embedded;
  if (!sources.has(source)) {
    let text: string | undefined;
    try {
      text = readFileSync(source.startsWith("file:") ? fileURLToPath(source) : source, "utf8");
    } catch {
      text = undefined;
    }
    sources.set(source, text);
  }
  return sources.get(source);
}

/** The offset of 0-based `line` and `column` in `text`. */
function offsetOf(text: string, line: number, column: number): number | undefined {
  let offset = 0;
  for (let i = 0; i < line; i++) {
    const next = text.indexOf("\n", offset);
    if (next === -1) return undefined;
    offset = next + 1;
  }
  const at = offset + column;
  return at <= text.length ? at : undefined;
}

const regexAfter = new Set([..."(,=:[!&|?{};+-*%<>~^"]);

/** Whether a `/` at `index`, after the code character `previous`, starts a regular expression. */
function startsRegex(text: string, index: number, previous: string): boolean {
  if (previous === "" || regexAfter.has(previous)) return true;
  const word = /([A-Za-z_$][\w$]*)\s*$/.exec(text.slice(Math.max(0, index - 16), index));
  return word !== null && regexAfterWords.has(word[1] as string);
}

/**
 * Calls `visit(index, char)` for each character of `text` from `start` that is code (not in a
 * string, a template's text, a comment or a regular expression literal), with the bracket depth
 * relative to `start`; stops when `visit` returns true.
 */
function scanCode(
  text: string,
  start: number,
  visit: (index: number, char: string, depth: number) => boolean,
): void {
  let depth = 0;
  // One entry per open template literal: the depth at which its `${` expression closes.
  const templates: number[] = [];
  let previous = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i, c);
      previous = c;
      continue;
    }
    if (c === "`" || (c === "}" && templates.at(-1) === depth)) {
      if (c === "}") templates.pop();
      const end = skipTemplateText(text, i + 1);
      if (text.startsWith("${", end)) {
        templates.push(depth);
        i = end + 1;
      } else i = end;
      previous = "`";
      continue;
    }
    if (c === "/" && startsRegex(text, i, previous)) {
      i = skipRegex(text, i);
      previous = "/";
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    if (visit(i, c, depth)) return;
    if (c === ")" || c === "]" || c === "}") depth--;
    if (!/\s/.test(c)) previous = c;
  }
}

function skipQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === "\\" ? 2 : 1;
  return i;
}

/** The index of the closing backtick or of the `$` of `${`, from inside a template's text. */
function skipTemplateText(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === "`" || text.startsWith("${", i)) return i;
    else i++;
  }
  return i;
}

function skipRegex(text: string, start: number): number {
  let i = start + 1;
  let inClass = false;
  while (i < text.length && text[i] !== "\n") {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) break;
    i++;
  }
  while (/[a-z]/i.test(text[i + 1] ?? "")) i++;
  return i;
}

/**
 * The last argument of the call whose callee starts at `start` (`env.task(options, fn)` →
 * the text of `fn`), or `undefined` when `start` is not followed by a call. Strings, template
 * literals, comments and regular expressions are skipped, so brackets and commas in them do not
 * count.
 * @internal exported for tests
 */
export function lastArgumentOfCall(text: string, start: number): string | undefined {
  const open = /^[\w$.\s]*\(/.exec(text.slice(start, start + 200));
  if (open === null) return undefined;
  const from = start + open[0].length;
  let argumentStart = from;
  let last: string | undefined;
  let closed = false;
  scanCode(text, from, (i, c, depth) => {
    if (depth === 0 && (c === "," || c === ")")) {
      const argument = text.slice(argumentStart, i).trim();
      if (argument !== "") last = argument;
      argumentStart = i + 1;
      closed = c === ")";
      return closed;
    }
    return false;
  });
  return closed ? last : undefined;
}

/** Whether `text` is a function expression that declares `name` (any name for arrows). */
function declares(text: string, name: string): boolean {
  const named = /^(?:async\s+)?function\s*\*?\s*([\w$]+)?\s*\(/.exec(text);
  if (named !== null) return named[1] === undefined || named[1] === name;
  return /^(?:async\s*)?(?:\([\s\S]*?\)|[\w$]+)\s*(?::[\s\S]*?)?=>/.test(text);
}
