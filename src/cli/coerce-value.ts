/**
 * Turns the text of a command-line flag into a value of the parameter's type, or says why it
 * cannot: `--n ten` for a number, broken JSON for an array, `--mode turbo` for `"fast" | "slow"`.
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { Dir } from "../api/dir.js";
import { File } from "../api/file.js";
import { describeType, type ParamType } from "./parameter-types.js";

/** A value of the parameter's type, or what is wrong with the text. */
export type Coerced =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string };

const ok = (value: unknown): Coerced => ({ ok: true, value });
const fail = (problem: string): Coerced => ({ ok: false, problem });

/** A value shown in a message: quoted, cut at 60 characters. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? "");
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function expects(type: ParamType, got: unknown, at = ""): Coerced {
  const where = at === "" ? "" : ` at ${at}`;
  return fail(`expects ${article(type)}${where}, got ${shown(got)}`);
}

function article(type: ParamType): string {
  const text = describeType(type);
  if (type.kind === "number" || type.kind === "string" || type.kind === "boolean") {
    return `a ${text}`;
  }
  if (type.kind === "bigint") return "an integer (bigint)";
  if (type.kind === "union" && type.members.every((m) => m.kind === "literal")) {
    return `one of ${text}`;
  }
  return text;
}

/** Numbers as people type them: `10`, `-2.5`, `1e-3`, `0x1f`; not `""`, `"ten"` or `"NaN"`. */
function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "" || !/^[-+]?(0x[0-9a-f]+|(\d[\d_]*\.?\d*|\.\d+)(e[-+]?\d+)?)$/i.test(trimmed)) {
    return undefined;
  }
  const value = Number(trimmed.replaceAll("_", ""));
  return Number.isFinite(value) ? value : undefined;
}

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Whether the text is meant as JSON: it starts like an array, an object or a quoted string. */
function looksLikeJson(text: string): boolean {
  return /^\s*[[{"]/.test(text);
}

/** Union members in the order a command-line text is tried against them: strictest first. */
const unionOrder: readonly ParamType["kind"][] = [
  "null",
  "literal",
  "boolean",
  "number",
  "bigint",
  "array",
  "tuple",
  "object",
  "date",
  "file",
  "dir",
  "json",
  "string",
  "undefined",
];

function byStrictness(members: readonly ParamType[]): ParamType[] {
  return [...members].sort((a, b) => unionOrder.indexOf(a.kind) - unionOrder.indexOf(b.kind));
}

/**
 * The value of a flag's `text` for a parameter of `type`: a string stays text, numbers and
 * booleans are parsed strictly, arrays and objects are parsed as JSON (broken JSON is a
 * problem, never a string), `flyte.File` is a path that must exist.
 */
export function coerceText(type: ParamType, text: string): Coerced {
  switch (type.kind) {
    case "string":
      return ok(text);
    case "number": {
      const value = parseNumber(text);
      return value === undefined ? expects(type, text) : ok(value);
    }
    case "bigint":
      return /^[-+]?\d+n?$/.test(text.trim())
        ? ok(BigInt(text.trim().replace(/n$/, "")))
        : expects(type, text);
    case "boolean":
      return text === "true" ? ok(true) : text === "false" ? ok(false) : expects(type, text);
    case "null":
      return text === "null" ? ok(null) : expects(type, text);
    case "undefined":
      return expects(type, text);
    case "date": {
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? expects(type, text) : ok(date);
    }
    case "file":
      return existsSync(text)
        ? ok(File.fromLocal(text))
        : fail(`expects a file path, but there is no file ${shown(text)}`);
    case "dir":
      return isDirectory(text)
        ? ok(Dir.fromLocal(text))
        : fail(`expects a directory path, but there is no directory ${shown(text)}`);
    case "literal": {
      const value = type.value;
      if (typeof value === "string") {
        return text === value || text === JSON.stringify(value) ? ok(value) : expects(type, text);
      }
      if (typeof value === "number")
        return parseNumber(text) === value ? ok(value) : expects(type, text);
      return text === String(value) ? ok(value) : expects(type, text);
    }
    case "array":
    case "tuple":
    case "object": {
      const parsed = parseJson(text);
      if ("error" in parsed) {
        return fail(
          `expects ${describeType(type)}, but ${shown(text)} is not valid JSON (${parsed.error})`,
        );
      }
      return coerceJson(type, parsed.value);
    }
    case "json": {
      const parsed = parseJson(text);
      if ("value" in parsed) return ok(parsed.value);
      return looksLikeJson(text)
        ? fail(`got ${shown(text)}, which starts like JSON but is not valid JSON (${parsed.error})`)
        : ok(text);
    }
    case "union": {
      let jsonProblem: Coerced | undefined;
      for (const member of byStrictness(type.members)) {
        const coerced = coerceText(member, text);
        if (coerced.ok) return coerced;
        if (/not valid JSON/.test(coerced.problem) && looksLikeJson(text)) jsonProblem ??= coerced;
      }
      return jsonProblem ?? expects(type, text);
    }
    default:
      return type satisfies never;
  }
}

/**
 * Checks a value parsed from JSON against `type`, converting what JSON cannot carry (a date or
 * file path string, an integer for a bigint). `at` names the place in the value (`[2]`, `.lr`).
 */
export function coerceJson(type: ParamType, value: unknown, at = ""): Coerced {
  switch (type.kind) {
    case "string":
    case "number":
    case "boolean":
      return typeof value === type.kind ? ok(value) : expects(type, value, at);
    case "bigint":
      if (typeof value === "number" && Number.isInteger(value)) return ok(BigInt(value));
      return typeof value === "string" && /^[-+]?\d+$/.test(value)
        ? ok(BigInt(value))
        : expects(type, value, at);
    case "null":
      return value === null ? ok(null) : expects(type, value, at);
    case "undefined":
      return expects(type, value, at);
    case "date":
    case "file":
    case "dir":
      return typeof value === "string" ? coerceText(type, value) : expects(type, value, at);
    case "literal":
      return value === type.value ? ok(value) : expects(type, value, at);
    case "array": {
      if (!Array.isArray(value)) return expects(type, value, at);
      const out: unknown[] = [];
      for (const [i, item] of value.entries()) {
        const coerced = coerceJson(type.element, item, `${at}[${i}]`);
        if (!coerced.ok) return coerced;
        out.push(coerced.value);
      }
      return ok(out);
    }
    case "tuple": {
      if (!Array.isArray(value) || value.length !== type.elements.length) {
        return expects(type, value, at);
      }
      const out: unknown[] = [];
      for (const [i, element] of type.elements.entries()) {
        const coerced = coerceJson(element, value[i], `${at}[${i}]`);
        if (!coerced.ok) return coerced;
        out.push(coerced.value);
      }
      return ok(out);
    }
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value)
        ? ok(value)
        : expects(type, value, at);
    case "json":
      return ok(value);
    case "union": {
      for (const member of byStrictness(type.members)) {
        const coerced = coerceJson(member, value, at);
        if (coerced.ok) return coerced;
      }
      return expects(type, value, at);
    }
    default:
      return type satisfies never;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
