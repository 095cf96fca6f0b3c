/**
 * The `flyte-ts run` command's own flags (as opposed to task parameters) and the run options
 * they set: every option of `withRunContext` that can be written on a command line.
 * @module
 */
import type { RunOptions } from "../run/run.js";
import { didYouMean } from "./did-you-mean.js";
import { type Flag, parseFlagValue } from "./flags.js";
import { UsageError } from "./usage.js";

/** What the run command's flags asked for: run options, and how the command shows the run. */
export interface CliOptions {
  run: Mutable<RunOptionsFromFlags>;
  verbose: boolean;
  help: boolean;
  quiet: boolean;
  json: boolean;
  logs: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The run options a command line can set. */
export type RunOptionsFromFlags = Pick<
  RunOptions,
  | "name"
  | "cacheDir"
  | "resume"
  | "replace"
  | "mode"
  | "dryRun"
  | "overwriteCache"
  | "disableRunCache"
  | "copyStyle"
  | "copyBundleTo"
  | "rawDataPath"
  | "runBaseDir"
  | "serviceAccount"
  | "envVars"
  | "customContext"
  | "pinCpus"
  | "maxActionConcurrency"
>;

type ViewSwitch = "verbose" | "help" | "quiet" | "json" | "logs";
type RunSwitch = "dryRun" | "overwriteCache" | "disableRunCache" | "pinCpus" | "replace";
type RunText =
  | "name"
  | "cacheDir"
  | "resume"
  | "copyBundleTo"
  | "rawDataPath"
  | "runBaseDir"
  | "serviceAccount";

/** Flags that take a value, and the run option each sets. */
const textFlags: Readonly<Record<string, RunText>> = {
  name: "name",
  "cache-dir": "cacheDir",
  resume: "resume",
  "copy-bundle-to": "copyBundleTo",
  "raw-data-path": "rawDataPath",
  "run-base-dir": "runBaseDir",
  "service-account": "serviceAccount",
};

/** Flags that take a value and need their own reading. */
const specialValueFlags = new Set([
  "mode",
  "copy-style",
  "env",
  "custom-context",
  "max-action-concurrency",
]);

/** Switches that set a run option. */
const runSwitches: Readonly<Record<string, RunSwitch>> = {
  "dry-run": "dryRun",
  "overwrite-cache": "overwriteCache",
  "disable-run-cache": "disableRunCache",
  "pin-cpus": "pinCpus",
  replace: "replace",
};

/** Switches that change how the command shows the run. */
const viewSwitches = new Set<string>(["verbose", "help", "quiet", "json", "logs"]);

/** Every flag of the run command, for "did you mean". */
export const runFlagNames: readonly string[] = [
  ...Object.keys(textFlags),
  ...specialValueFlags,
  ...Object.keys(runSwitches),
  ...viewSwitches,
];

/** Whether the run command's flag `name` takes a value. */
export function takesValue(name: string): boolean {
  return name in textFlags || specialValueFlags.has(name);
}

/** Whether `name` is a switch of the run command (a flag without a value). */
export function isSwitch(name: string): boolean {
  return name in runSwitches || viewSwitches.has(name);
}

/** Options before any flag is read. */
export function defaultCliOptions(): CliOptions {
  return { run: {}, verbose: false, help: false, quiet: false, json: false, logs: false };
}

/** Reads `KEY=VALUE` into `into`. */
function keyValue(flag: Flag, into: Record<string, string> | undefined): Record<string, string> {
  const text = flag.value === true ? "" : flag.value;
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new UsageError(
      `--${flag.name} expects KEY=VALUE, got ${JSON.stringify(text)}. Example: --${flag.name} LOG_LEVEL=debug`,
    );
  }
  return { ...into, [text.slice(0, eq)]: text.slice(eq + 1) };
}

/**
 * Applies `flag` if it is one of the run command's own options; says whether it was.
 * @throws UsageError when it is one, but its value is missing or wrong.
 */
export function applyOption(options: CliOptions, flag: Flag): boolean {
  const run = options.run;
  const text = textFlags[flag.name];
  if (text !== undefined || specialValueFlags.has(flag.name)) {
    if (flag.value === true) throw new UsageError(`--${flag.name} needs a value.`);
    if (text !== undefined) run[text] = flag.value;
    else if (flag.name === "mode") run.mode = flag.value as RunOptions["mode"] & string;
    else if (flag.name === "copy-style")
      run.copyStyle = flag.value as RunOptions["copyStyle"] & string;
    else if (flag.name === "env") run.envVars = keyValue(flag, run.envVars);
    else if (flag.name === "max-action-concurrency") {
      const n = Number(flag.value);
      if (!/^\d+$/.test(flag.value.trim()) || n < 1) {
        throw new UsageError(
          `--max-action-concurrency expects an integer of 1 or more, got ${JSON.stringify(flag.value)}.`,
        );
      }
      run.maxActionConcurrency = n;
    } else run.customContext = keyValue(flag, run.customContext);
    return true;
  }
  const runSwitch = runSwitches[flag.name];
  if (runSwitch !== undefined || viewSwitches.has(flag.name)) {
    const on = parseFlagValue(flag.value);
    if (typeof on !== "boolean") {
      throw new UsageError(`--${flag.name} is a switch; give it no value (or true/false).`);
    }
    if (runSwitch !== undefined) run[runSwitch] = on;
    else options[flag.name as ViewSwitch] = on;
    return true;
  }
  return false;
}

/** The error for a flag the run command does not know (before `<file>`). */
export function unknownOption(name: string): UsageError {
  return new UsageError(
    `Unknown option --${name}.${didYouMean(name, runFlagNames, "--")} See \`flyte-ts run --help\`.`,
  );
}
