/**
 * The types the command line understands for task parameters, read from the text of a
 * TypeScript annotation (`number`, `"fast" | "slow"`, `string[]`, `Record<string, number>`) or
 * from a literal default (`n = 10`), and how each is described to people.
 * @module
 */

/** A parameter's type as far as the command line can check it. */
export type ParamType =
  | { readonly kind: "string" }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" }
  | { readonly kind: "bigint" }
  | { readonly kind: "null" }
  | { readonly kind: "undefined" }
  | { readonly kind: "date" }
  /** `flyte.File`: a path on the command line. */
  | { readonly kind: "file" }
  /** `flyte.Dir`: a directory path on the command line. */
  | { readonly kind: "dir" }
  | { readonly kind: "literal"; readonly value: string | number | boolean }
  | { readonly kind: "array"; readonly element: ParamType }
  | { readonly kind: "tuple"; readonly elements: readonly ParamType[] }
  /** An object type (`{ a: number }`, `Record<…>`, an interface): a JSON object. */
  | { readonly kind: "object"; readonly text: string }
  /** A type the command line cannot check (`unknown`, `any`, a type from another module): any JSON value, else text. */
  | { readonly kind: "json"; readonly text: string }
  | { readonly kind: "union"; readonly members: readonly ParamType[] };

/** Type aliases and interfaces declared in the same module, by name (the text after `=`, or `{…}`). */
export type TypeAliases = ReadonlyMap<string, string>;

const keywords: Readonly<Record<string, ParamType>> = {
  string: { kind: "string" },
  String: { kind: "string" },
  number: { kind: "number" },
  Number: { kind: "number" },
  boolean: { kind: "boolean" },
  Boolean: { kind: "boolean" },
  bigint: { kind: "bigint" },
  null: { kind: "null" },
  undefined: { kind: "undefined" },
  void: { kind: "undefined" },
  Date: { kind: "date" },
  File: { kind: "file" },
  "flyte.File": { kind: "file" },
  Dir: { kind: "dir" },
  "flyte.Dir": { kind: "dir" },
  true: { kind: "literal", value: true },
  false: { kind: "literal", value: false },
};

/**
 * Walks `text` and calls `visit(char, index, depth)` for every character outside string
 * literals and comments, with the bracket depth before it (`(`, `[`, `{` and `<` open; `=>`
 * does not close). Stops when `visit` returns true.
 */
export function scanSource(
  text: string,
  start: number,
  visit: (char: string, index: number, depth: number) => boolean | undefined,
  end = text.length,
): void {
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(text, i);
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? end : eol;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? end : close + 1;
      continue;
    }
    if (visit(c, i, depth)) return;
    if (c === "(" || c === "[" || c === "{" || c === "<") depth++;
    else if (c === ")" || c === "]" || c === "}" || (c === ">" && text[i - 1] !== "=")) depth--;
  }
}

/** The index of the quote that closes the string literal opening at `open`. */
function skipString(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return text.length;
}

/** Splits `text` at `separator` characters that are not nested in brackets, strings or comments. */
export function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  scanSource(text, 0, (c, i, depth) => {
    if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    return false;
  });
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** Whether `text` is wholly wrapped in one pair of `open`/`close` brackets. */
function wrapped(text: string, open: string, close: string): boolean {
  if (!text.startsWith(open) || !text.endsWith(close)) return false;
  let closesAt = -1;
  scanSource(text, 0, (c, i, depth) => {
    if (c === close && depth === 1) {
      closesAt = i;
      return true;
    }
    return false;
  });
  return closesAt === text.length - 1;
}

/** The `<…>` arguments of a generic written `Name<…>`, or `undefined`. */
function genericArguments(text: string, name: string): string[] | undefined {
  if (!text.startsWith(`${name}<`) || !wrapped(text.slice(name.length), "<", ">")) return undefined;
  return splitTopLevel(text.slice(name.length + 1, -1), ",");
}

/**
 * The type an annotation's text names. Type aliases declared in the same module are followed
 * (`aliases`); a name that cannot be followed is `json` (checked as any JSON value).
 */
export function parseType(text: string, aliases: TypeAliases = new Map(), seen = 0): ParamType {
  const t = text.trim().replace(/^\|/, "").trim();
  const members = splitTopLevel(t, "|").filter((m) => m !== "");
  if (members.length > 1) {
    const parsed = members.flatMap((m) => {
      const type = parseType(m, aliases, seen);
      return type.kind === "union" ? type.members : [type];
    });
    return { kind: "union", members: parsed };
  }
  if (wrapped(t, "(", ")")) return parseType(t.slice(1, -1), aliases, seen);
  if (t.startsWith("readonly ")) return parseType(t.slice("readonly ".length), aliases, seen);
  if (t.endsWith("[]")) return { kind: "array", element: parseType(t.slice(0, -2), aliases, seen) };
  const known = keywords[t];
  if (known !== undefined) return known;
  if (/^(['"]).*\1$/s.test(t)) return { kind: "literal", value: t.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: "literal", value: Number(t) };
  for (const generic of ["Array", "ReadonlyArray"]) {
    const args = genericArguments(t, generic);
    if (args?.length === 1) {
      return { kind: "array", element: parseType(args[0] as string, aliases, seen) };
    }
  }
  if (wrapped(t, "[", "]")) {
    const inner = t.slice(1, -1).trim();
    const elements = inner === "" ? [] : splitTopLevel(inner, ",");
    if (elements.some((e) => e.startsWith("...") || e.endsWith("?") || e.includes(":"))) {
      return { kind: "array", element: { kind: "json", text: "unknown" } };
    }
    return { kind: "tuple", elements: elements.map((e) => parseType(e, aliases, seen)) };
  }
  if (wrapped(t, "{", "}") || /^(Readonly<)?Record</.test(t) || /^Partial<\{/.test(t)) {
    return { kind: "object", text: t };
  }
  const alias = aliases.get(t);
  if (alias !== undefined && seen < 8) {
    const type = parseType(alias, aliases, seen + 1);
    return type.kind === "object" ? { kind: "object", text: t } : type;
  }
  return { kind: "json", text: t };
}

/** The type a literal default gives a parameter without an annotation (`n = 10` → number). */
export function typeOfDefault(source: string | undefined): ParamType | undefined {
  if (source === undefined) return undefined;
  const s = source.trim();
  if (/^[-+]?(\d[\d_]*\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return { kind: "number" };
  if (/^[-+]?\d+n$/.test(s)) return { kind: "bigint" };
  if (s === "true" || s === "false") return { kind: "boolean" };
  if (/^(['"`]).*\1$/s.test(s)) return { kind: "string" };
  if (s.startsWith("[")) return { kind: "array", element: { kind: "json", text: "unknown" } };
  if (s.startsWith("{")) return { kind: "object", text: "object" };
  if (s.startsWith("new Date(")) return { kind: "date" };
  return undefined;
}

/** Whether a value of type `type` may be `true` from a bare `--flag`. */
export function acceptsBareFlag(type: ParamType): boolean {
  switch (type.kind) {
    case "boolean":
      return true;
    case "literal":
      return type.value === true;
    case "union":
      return type.members.some(acceptsBareFlag);
    default:
      return false;
  }
}

/** Whether `undefined` is one of the type's values (`x?: T`, `T | undefined`). */
export function acceptsUndefined(type: ParamType): boolean {
  return (
    type.kind === "undefined" || (type.kind === "union" && type.members.some(acceptsUndefined))
  );
}

/** The type as people read it in help and errors: `number`, `"fast" | "slow"`, `JSON array of numbers`. */
export function describeType(type: ParamType): string {
  switch (type.kind) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "null":
    case "undefined":
      return type.kind;
    case "date":
      return "date (ISO 8601)";
    case "file":
      return "file path";
    case "dir":
      return "directory path";
    case "literal":
      return JSON.stringify(type.value);
    case "array": {
      const element = describeType(type.element);
      const shown = type.element.kind === "union" ? `(${element})` : element;
      return `${shown}[] (JSON array)`.replace(/ \(JSON array\)\[\]/g, "[]");
    }
    case "tuple":
      return `[${type.elements.map(describeType).join(", ")}] (JSON array)`;
    case "object":
      return `${type.text} (JSON object)`;
    case "json":
      return type.text === "unknown" || type.text === "any" ? "any (JSON or text)" : type.text;
    case "union":
      return type.members
        .filter((m) => m.kind !== "undefined")
        .map(describeType)
        .join(" | ");
    default:
      return type satisfies never;
  }
}
