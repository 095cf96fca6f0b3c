/**
 * Reads a function's parameter names (and literal defaults) from its source text, since
 * JavaScript keeps no signature at run time. Used to bind CLI flags and to name inputs in errors.
 * @module
 */

/** One parameter of a task's function. */
export interface Parameter {
  /** The parameter's name; `arg<i>` for a destructured parameter. */
  readonly name: string;
  /** Whether the parameter has a default (`x = 3`) or is a rest parameter. */
  readonly optional: boolean;
  /** Whether it is a rest parameter (`...xs`). */
  readonly rest: boolean;
  /** The default as written, when there is one. */
  readonly defaultSource?: string;
}

/** The text between the parentheses of the parameter list, or the bare arrow parameter. */
/**
 * Walks `text` from `start`, skipping string literals, and calls `visit(char, index, depth)` for
 * every other character with the bracket depth before it; stops when `visit` returns true.
 */
function scan(
  text: string,
  start: number,
  visit: (char: string, index: number, depth: number) => boolean | undefined,
): void {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (visit(c, i, depth)) return;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
  }
}

function parameterListText(source: string): string {
  const text = source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, " ").trimStart();
  const bareArrow = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  if (bareArrow) return bareArrow[1] ?? "";
  const open = text.indexOf("(");
  if (open < 0) return "";
  let list = "";
  scan(text, open, (c, i, depth) => {
    if (c !== ")" || depth !== 1) return false;
    list = text.slice(open + 1, i);
    return true;
  });
  return list;
}

/** Splits at commas that are not nested in brackets or strings. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  scan(text, 0, (c, i, depth) => {
    if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    return false;
  });
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The parameters of `fn`, in declaration order. */
export function parametersOf(fn: Function): readonly Parameter[] {
  return splitTopLevel(parameterListText(Function.prototype.toString.call(fn))).map((part, i) => {
    const rest = part.startsWith("...");
    const body = rest ? part.slice(3).trim() : part;
    const eq = findTopLevelEquals(body);
    const target = (eq < 0 ? body : body.slice(0, eq)).trim();
    const name = /^[A-Za-z_$][\w$]*$/.test(target) ? target : `arg${i}`;
    return eq < 0
      ? { name, optional: rest, rest }
      : { name, optional: true, rest, defaultSource: body.slice(eq + 1).trim() };
  });
}

function findTopLevelEquals(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "=" && depth === 0 && text[i + 1] !== ">") return i;
  }
  return -1;
}
