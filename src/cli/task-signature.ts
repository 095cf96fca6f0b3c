/**
 * A task's parameters with their types, for the command line. TypeScript types are erased at
 * run time, so they are read from the task's source file: the parameter list whose names match
 * the function's is found, and each annotation is parsed (`parameter-types.ts`). Without an
 * annotation (a `.js` file), a literal default gives the type (`n = 10` is a number).
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AnyTask } from "../api/task.js";
import type { Parameter } from "../internal/parameters.js";
import {
  acceptsUndefined,
  type ParamType,
  parseType,
  scanSource,
  splitTopLevel,
  type TypeAliases,
  typeOfDefault,
} from "./parameter-types.js";

/** A task parameter as the command line sees it. */
export interface TypedParameter extends Parameter {
  /** The type flags are checked against; `undefined` when neither annotation nor default says. */
  readonly type: ParamType | undefined;
  /** The annotation as written in the source, when there is one. */
  readonly typeText: string | undefined;
}

/** One parameter as written in the source: `name?: Type = default`. */
interface WrittenParameter {
  readonly name: string;
  readonly question: boolean;
  readonly typeText: string | undefined;
  readonly defaultSource: string | undefined;
  /** A destructured parameter (`{ a, b }: T`): it has no name of its own. */
  readonly destructured: boolean;
}

const sources = new Map<string, string | undefined>();

function sourceOf(moduleUrl: string | undefined): string | undefined {
  if (moduleUrl === undefined || !moduleUrl.startsWith("file:")) return undefined;
  if (!sources.has(moduleUrl)) {
    try {
      sources.set(moduleUrl, readFileSync(fileURLToPath(moduleUrl), "utf8"));
    } catch {
      sources.set(moduleUrl, undefined);
    }
  }
  return sources.get(moduleUrl);
}

/** Positions of every `( … )` pair outside strings and comments: `[open, close]`. */
function parenPairs(source: string): [number, number][] {
  const pairs: [number, number][] = [];
  const open: number[] = [];
  scanSource(source, 0, (c, i) => {
    if (c === "(") open.push(i);
    else if (c === ")") {
      const start = open.pop();
      if (start !== undefined) pairs.push([start, i]);
    }
    return false;
  });
  return pairs;
}

/** The index of the first top-level `char` in `text` (not `=>`, `==`, `>=`, … for `=`), or -1. */
function topLevelIndex(text: string, char: string): number {
  let found = -1;
  scanSource(text, 0, (c, i, depth) => {
    if (c !== char || depth !== 0) return false;
    if (char === "=" && (/[=!<>]/.test(text[i - 1] ?? "") || /[=>]/.test(text[i + 1] ?? ""))) {
      return false;
    }
    found = i;
    return true;
  });
  return found;
}

function writtenParameters(list: string): WrittenParameter[] {
  const parts = splitTopLevel(list, ",").filter((p) => p !== "");
  return parts
    .map((part, i) => {
      const body = part.startsWith("...") ? part.slice(3).trim() : part;
      const eq = topLevelIndex(body, "=");
      const head = eq < 0 ? body : body.slice(0, eq);
      const colon = topLevelIndex(head, ":");
      let target = (colon < 0 ? head : head.slice(0, colon)).trim();
      const question = target.endsWith("?");
      if (question) target = target.slice(0, -1).trim();
      const destructured = !/^[A-Za-z_$][\w$]*$/.test(target);
      const name = destructured ? `arg${i}` : target;
      const typeText = colon < 0 ? undefined : head.slice(colon + 1).trim();
      const defaultSource = eq < 0 ? undefined : body.slice(eq + 1).trim();
      return { name, question, typeText, defaultSource, destructured };
    })
    .filter((p) => p.name !== "this");
}

/** Type aliases and interfaces declared in the module, for annotations that name them. */
function aliasesOf(source: string): TypeAliases {
  const aliases = new Map<string, string>();
  const alias = /(?:^|[\n;])\s*(?:export\s+)?type\s+([A-Za-z_$][\w$]*)\s*=\s*/g;
  for (let m = alias.exec(source); m !== null; m = alias.exec(source)) {
    const start = m.index + m[0].length;
    let end = source.length;
    scanSource(source, start, (c, i, depth) => {
      if (depth !== 0) return false;
      const endsLine =
        c === "\n" && !/^\s*[|&]/.test(source.slice(i + 1, i + 40)) && source[i - 1] !== "|";
      if (c === ";" || endsLine) {
        end = i;
        return true;
      }
      return false;
    });
    aliases.set(m[1] as string, source.slice(start, end).trim());
  }
  for (const m of source.matchAll(/\binterface\s+([A-Za-z_$][\w$]*)/g)) {
    aliases.set(m[1] as string, "{}");
  }
  return aliases;
}

/**
 * Tells whether the parameter list opening at an index of `source` belongs to `function <name>`
 * (or method `<name>`).
 */
function namedFunction(source: string, name: string): (open: number) => boolean {
  if (name === "") return () => false;
  const ends = new RegExp(
    `(function\\s*\\*?\\s*|\\b)${name.replace(/\$/g, "\\$")}\\s*(=\\s*(async\\s*)?)?$`,
  );
  return (open) =>
    ends.test(source.slice(Math.max(0, open - 200), open).replace(/<[^()]*>\s*$/, ""));
}

/**
 * The parameter list in the source that belongs to `task`, or `undefined` when it cannot be told:
 * the list of `function <name>` with as many parameters, else a list whose names are the
 * function's. (Compilers may rename a parameter that shadows an outer name, `texts` → `texts2`:
 * the source's names are the ones people type.)
 */
function findWritten(task: AnyTask, source: string): WrittenParameter[] | undefined {
  const names = task.parameters.map((p) => p.name);
  if (names.length === 0) return undefined;
  const candidates: { written: WrittenParameter[]; named: boolean }[] = [];
  const isNamed = namedFunction(source, task.func.name);
  for (const [open, close] of parenPairs(source)) {
    const list = source.slice(open + 1, close);
    const named = isNamed(open);
    // Most pairs are calls and bodies: one without every name cannot be the list (cheap test).
    if (!named && names.some((name) => !list.includes(name))) continue;
    const written = writtenParameters(list);
    if (written.length !== names.length) continue;
    if (!named && written.some((w, i) => w.name !== names[i])) continue;
    candidates.push({ written, named });
  }
  const named = candidates.filter((c) => c.named);
  const pool = named.length > 0 ? named : candidates;
  const first = pool[0];
  if (first === undefined) return undefined;
  const key = (c: { written: WrittenParameter[] }) => JSON.stringify(c.written);
  // Several lists with these names and different annotations: the types cannot be told apart.
  return pool.every((c) => key(c) === key(first)) ? first.written : undefined;
}

/**
 * The task's parameters with the types the command line checks flags against.
 *
 * @example
 * ```ts
 * signatureOf(train); // [{ name: "lr", type: { kind: "number" }, typeText: "number", … }]
 * ```
 */
export function signatureOf(task: AnyTask): readonly TypedParameter[] {
  let signature = signatures.get(task);
  if (signature === undefined) {
    signature = readSignature(task);
    signatures.set(task, signature);
  }
  return signature;
}

/** Signatures read so far: the command line asks for one task's more than once. */
const signatures = new WeakMap<AnyTask, readonly TypedParameter[]>();

function readSignature(task: AnyTask): readonly TypedParameter[] {
  const source = sourceOf(task.moduleUrl);
  const written = source === undefined ? undefined : findWritten(task, source);
  const aliases = source === undefined ? new Map<string, string>() : aliasesOf(source);
  return task.parameters.map((parameter, i) => {
    const w = written?.[i];
    const typeText = w?.typeText;
    let type =
      typeText === undefined
        ? typeOfDefault(parameter.defaultSource)
        : parseType(typeText, aliases);
    if (w?.question && type !== undefined && !acceptsUndefined(type)) {
      type = { kind: "union", members: [type, { kind: "undefined" }] };
    }
    const optional =
      parameter.optional || w?.question === true || (type !== undefined && acceptsUndefined(type));
    // The source's name and default text, as written (compiled code may rename or reformat them).
    const name = w === undefined || w.destructured ? parameter.name : w.name;
    const defaultSource = w?.defaultSource ?? parameter.defaultSource;
    return {
      ...parameter,
      name,
      ...(defaultSource === undefined ? {} : { defaultSource }),
      optional,
      type,
      typeText,
    };
  });
}
