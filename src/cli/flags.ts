/**
 * Flags as written on the command line (`--n 10`, `--n=10`, `--dry-run`) and how their values
 * are read.
 * @module
 */

/** One flag as written: `--name value`, `--name=value`, or `--name` alone (then `true`). */
export interface Flag {
  /** The name without the dashes, as written (`learning-rate`). */
  readonly name: string;
  /** The text after the flag, or `true` for a flag with no value. */
  readonly value: string | true;
}

/** The flags and the other words of a command line, each in the order written. */
export interface ReadFlags {
  readonly flags: readonly Flag[];
  readonly positionals: readonly string[];
}

/**
 * Splits `tokens` into flags and positionals. A flag takes the next word as its value unless that
 * word is itself a flag (`--...`) or `takesValue(name)` says the flag is a switch; `-5` is a
 * value, not a flag. `-h` is read as `--help`.
 */
export function readFlags(
  tokens: readonly string[],
  takesValue: (name: string) => boolean,
): ReadFlags {
  const flags: Flag[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "-h") {
      flags.push({ name: "help", value: true });
    } else if (token.startsWith("--") && token.length > 2) {
      const eq = token.indexOf("=");
      if (eq > 2) {
        flags.push({ name: token.slice(2, eq), value: token.slice(eq + 1) });
        continue;
      }
      const name = token.slice(2);
      const next = tokens[i + 1];
      if (next !== undefined && !next.startsWith("--") && takesValue(name)) {
        flags.push({ name, value: next });
        i++;
      } else {
        flags.push({ name, value: true });
      }
    } else {
      positionals.push(token);
    }
  }
  return { flags, positionals };
}

/**
 * A flag's value: parsed as JSON when it parses (`10`, `true`, `"10"`, `[1,2]`, `{"a":1}`,
 * `null`), the text itself otherwise (`hello`, `a,b`); `true` for a flag with no value.
 */
export function parseFlagValue(value: string | true): unknown {
  if (value === true) return true;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
