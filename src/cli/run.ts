/**
 * `flyte-ts run <file> <task> [--param value ...]`: loads a module, runs one of its tasks in a
 * local run, and prints the outputs.
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AnyTask, Task } from "../api/task.js";
import { FlyteError, RunCancelledError } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import {
  createLiveView,
  defaultViewMode,
  type LiveView,
  type ViewMode,
} from "../record/live-view.js";
import { reportFileName } from "../record/report-file.js";
import { RunStore, type StoredCall } from "../record/run-store.js";
import { shutdown } from "../run/engine.js";
// What a run loads, loaded before a TypeScript program registers tsx's loader (after which each
// module costs a round trip to Node's loader thread).
import "../run/start-run.js";
import { storedCallOf } from "../run/resume-check.js";
import { type RunContext, type RunOptions, withRunContext } from "../run/run.js";
import { bindArguments, describeParameters, matchParameter } from "./bind-parameters.js";
import { describeTasks, findTask } from "./find-task.js";
import { type Flag, readFlags } from "./flags.js";
import { loadModule } from "./load-module.js";
import { formatError, formatOutput, jsonReplacer } from "./print.js";
import {
  applyOption,
  type CliOptions,
  defaultCliOptions,
  isSwitch,
  runFlagNames,
  takesValue,
  unknownOption,
} from "./run-options.js";
import { cancelOnSignals, exitStatusFor } from "./signals.js";
import { signatureOf } from "./task-signature.js";
import { ExitCode, runHelp, UsageError } from "./usage.js";

/** Splits argv at the task: the options before `<file>`, `<file>` and `<task>`, and the rest. */
function splitAtTask(argv: readonly string[]) {
  const leading: string[] = [];
  const positionals: string[] = [];
  let i = 0;
  while (i < argv.length && positionals.length < 2) {
    const token = argv[i++] as string;
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    leading.push(token);
    if (takesValue(token.slice(2)) && i < argv.length) leading.push(argv[i++] as string);
  }
  return { leading, file: positionals[0], taskName: positionals[1], rest: argv.slice(i) };
}

/** Reads the flags after `<task>`: task parameters first, then the command's own options. */
function splitTaskFlags(task: AnyTask, tokens: readonly string[], options: CliOptions): Flag[] {
  const parameters = signatureOf(task);
  const isParameter = (name: string) => matchParameter(parameters, name) !== undefined;
  const { flags, positionals } = readFlags(tokens, (name) => {
    const parameter = matchParameter(parameters, name);
    if (parameter !== undefined) return true;
    return !isSwitch(name);
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": pass task inputs as --param value.\n${describeParameters(task)}`,
    );
  }
  return flags.filter((flag) => isParameter(flag.name) || !applyOption(options, flag));
}

function runContextFor(options: CliOptions, signal: AbortSignal, view: LiveView): RunContext {
  const runOptions: RunOptions = {
    ...options.run,
    signal,
    // What the live view and --json print has known secret values masked.
    onEvent: (event) => view.onEvent(knownSecrets.maskValue(event)),
    echoLogs: false,
    ...(view.onLog === undefined ? {} : { onLog: view.onLog }),
  };
  try {
    return withRunContext(runOptions);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/**
 * Runs the `run` command with the words after `run`; resolves with the exit status.
 * @throws UsageError when the command line is wrong.
 */
export async function runCommand(argv: readonly string[]): Promise<ExitCode> {
  const options = defaultCliOptions();
  const { leading, file, taskName, rest } = splitAtTask(argv);
  for (const flag of readFlags(leading, takesValue).flags) {
    if (!applyOption(options, flag)) throw unknownOption(flag.name);
  }
  if (options.help && file === undefined) {
    process.stdout.write(runHelp);
    return ExitCode.ok;
  }
  if (file === undefined && options.run.resume !== undefined && !options.help) {
    return resumeStoredCall(options);
  }
  if (file === undefined || (taskName === undefined && !options.help)) {
    throw new UsageError(
      `\`flyte-ts run\` needs a file and a task, e.g. \`flyte-ts run examples/quickstart.ts main --n 10\`. See \`flyte-ts run --help\`.`,
    );
  }
  const namespace = await loadOrSay(file, options);
  if (namespace === undefined) return ExitCode.failed;
  if (taskName === undefined) {
    process.stdout.write(describeTasks(namespace, file));
    return ExitCode.ok;
  }
  const task = findTask(namespace, taskName, file);
  const parameterFlags = splitTaskFlags(task, rest, options);
  if (options.help) {
    const docs = task.docs === undefined ? "" : `${task.docs}\n\n`;
    process.stdout.write(
      `Task \`${task.name}\` in ${file}\n\n${docs}${describeParameters(task)}\n`,
    );
    return ExitCode.ok;
  }
  const args = bindArguments(task, parameterFlags, runFlagNames);
  return runTask(task, args, options);
}

/** `flyte-ts run --resume <run>` with no file or task: repeats the stored root call exactly. */
async function resumeStoredCall(options: CliOptions): Promise<ExitCode> {
  const name = options.run.resume as string;
  const home = resolve(options.run.cacheDir ?? process.env.FLYTE_TS_HOME ?? ".flyte");
  const store = new RunStore(home);
  let call: StoredCall | undefined;
  try {
    call = storedCallOf(store, name);
  } finally {
    store.close();
  }
  if (call === undefined) {
    throw new UsageError(
      `There is no intact run "${name}" to resume in ${home}. List the stored runs with \`flyte-ts runs ls\`.`,
    );
  }
  if (call.module === undefined || !call.module.startsWith("file:") || call.args === undefined) {
    throw new UsageError(
      `Run "${name}" did not keep ${call.args === undefined ? "its inputs (they held a secret value, or could not be stored)" : "the file of its task"}; ` +
        `give them again: \`flyte-ts run --resume ${name} <file> ${call.task} --param value\`.`,
    );
  }
  const file = fileURLToPath(call.module);
  const namespace = await loadOrSay(file, options);
  if (namespace === undefined) return ExitCode.failed;
  return runTask(findTask(namespace, call.task, file), [...call.args], options);
}

/** The program's module, or `undefined` after saying why it could not be loaded. */
async function loadOrSay(
  file: string,
  options: CliOptions,
): Promise<Readonly<Record<string, unknown>> | undefined> {
  try {
    return await loadModule(file);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    console.error(`Could not load ${file}:\n${formatError(error, options.verbose)}`);
    return undefined;
  }
}

/** Codes of errors that refuse a run before it starts (the command line named the wrong run). */
const refusedBeforeStart = new Set(["RunExists", "RunInProgress", "RunNotFound"]);

function viewMode(options: CliOptions): ViewMode {
  if (options.json) return "json";
  if (options.quiet) return "quiet";
  return defaultViewMode();
}

async function runTask(task: AnyTask, args: unknown[], options: CliOptions): Promise<ExitCode> {
  const cancel = new AbortController();
  const mode = viewMode(options);
  const view = createLiveView({ mode, logs: options.logs });
  let runDir: string | undefined;
  const context = runContextFor(options, cancel.signal, {
    ...view,
    onEvent: (event) => {
      if (event.type === "run-started") runDir = event.dir;
      view.onEvent(event);
    },
  });
  const finishView = () => {
    if (runDir !== undefined) view.finish(join(runDir, reportFileName));
  };
  const signals = cancelOnSignals(cancel);
  try {
    const run = await context.run(task as unknown as Task<unknown[], unknown>, ...args);
    finishView();
    if (options.run.dryRun) {
      console.error(
        `Dry run: emitted what \`${task.name}\` would run (Dockerfile, job.yaml, inputs, code bundle) into ${run.url}; nothing ran.`,
      );
      return ExitCode.ok;
    }
    const outputs = await run.outputs();
    const masked = knownSecrets.maskValue(outputs);
    if (mode === "json") {
      process.stdout.write(`${JSON.stringify({ type: "outputs", value: masked }, jsonReplacer)}\n`);
    } else {
      const shown = formatOutput(masked);
      if (shown !== undefined) process.stdout.write(`${shown}\n`);
    }
    if (options.verbose) console.error(`Run ${run.name} succeeded; its record is in ${run.url}.`);
    return ExitCode.ok;
  } catch (error) {
    finishView();
    if (error instanceof FlyteError && refusedBeforeStart.has(error.code)) {
      console.error(`flyte-ts: ${error.message}`);
      return ExitCode.usage;
    }
    if (error instanceof RunCancelledError) {
      console.error(knownSecrets.maskText(formatError(error, options.verbose)));
      // 128 + the signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP); 130 for `runs cancel`.
      return signals.received === undefined
        ? ExitCode.cancelled
        : (exitStatusFor(signals.received) as ExitCode);
    }
    const what = error instanceof FlyteError ? "" : " (an error from flyte-ts itself)";
    console.error(
      knownSecrets.maskText(
        `Task \`${task.name}\` failed${what}:\n${formatError(error, options.verbose)}`,
      ),
    );
    return ExitCode.failed;
  } finally {
    signals.stop();
    // The command is the whole program: reusable environments' workers end with it.
    await shutdown();
  }
}
