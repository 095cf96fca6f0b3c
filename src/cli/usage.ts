/**
 * The CLI's help texts, and the error for a command line that cannot be run as written.
 * @module
 */
import { FlyteError } from "../errors.js";

/** Exit statuses of the `flyte-ts` command. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The task (or loading the user's module) failed. */
  failed: 1,
  /** The command line was wrong: unknown command, task or parameter, a missing file. */
  usage: 2,
  /** The run was interrupted (Ctrl-C, SIGINT) and cancelled. */
  cancelled: 130,
  /** The run was cancelled by SIGHUP (the terminal went away). */
  hangup: 129,
  /** The run was cancelled by SIGTERM. */
  terminated: 143,
} as const;

/** An exit status of the `flyte-ts` command. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The command line cannot be run as written; the message says what to type instead. The CLI
 * prints it with no stack and exits with {@link ExitCode.usage}.
 */
export class UsageError extends FlyteError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: "UsageError", kind: "user" });
  }
}

/** `flyte-ts --help`. */
export const mainHelp = `Usage: flyte-ts <command> [options]

Commands:
  run <file> <task> [--param value ...]   run one task of a .ts or .js module and print its outputs
  cache ls|show|stats|clear|prune         look into and trim the local cache (\`flyte-ts cache --help\`)
  runs ls|show|logs|cancel|rm|prune       list, inspect, cancel and remove stored runs (\`flyte-ts runs --help\`)
  status                                  this host's resources in use and free now, and what live runs wait for
  build <file> [--env name] [--out dir]   write each environment's Dockerfile and build context
  deploy --dry-run <file> [--out dir]     write a Kubernetes Job for every task
  execute --inputs <file> ...             run one offloaded action (inside its container)
  devices [--json]                        print the CPUs, memory, GPUs and TPUs tasks are admitted against

Options:
  -h, --help      show this help (\`flyte-ts run --help\` for the run command)
  -v, --version   print the flyte-ts version

Example:
  flyte-ts run examples/quickstart.ts main --n 10
`;

/** `flyte-ts run --help`. */
export const runHelp = `Usage: flyte-ts run [options] <file.ts|file.js> <task> [--param value ...] [options]
       flyte-ts run <file> --help          list the file's tasks, their parameters and types

Runs <task> from <file> in a local run and prints its outputs: a string as it is, anything
else as JSON. TypeScript files load directly; no build step is needed.

<task>      the task's export name, its function name, or its full name "<env>.<function>"
--param     binds to the task parameter of that name (--learning-rate also binds learningRate).
            Each value is checked against the parameter's type, read from the function's
            TypeScript annotation (or a literal default): numbers and booleans are parsed
            strictly, strings are taken as written, arrays and objects as JSON (broken JSON is
            an error), a union tries its members, a flyte.File is a path that must exist.
            Parameters of unknown type read JSON when it parses, text otherwise. A flag with no
            value is true, for boolean parameters only; --param=value works too. Parameters
            without a default are required; \`flyte-ts run <file> <task> --help\` lists them.

Run options (withRunContext's, on the command line):
  --name <run>             the run's name (a folder name)   default: a timestamp plus random letters.
                           A name already stored is an error: run names never merge
  --resume <run>           re-run a stored run: what finished in it is replayed, the rest runs.
                           The task and inputs must be the stored run's; with no <file> and
                           <task>, the stored call is repeated: \`flyte-ts run --resume <run>\`
  --replace                discard the stored run of the same --name first
  --cache-dir <dir>        the .flyte folder (cache, run records)   default: $FLYTE_TS_HOME, else ./.flyte
  --mode <mode>            local | remote | hybrid   default: local
  --dry-run                emit what would be offloaded (Dockerfile, job.yaml, bundle) and run nothing
  --overwrite-cache        skip cache reads, still write results (also FLYTE_TS_OVERWRITE_CACHE=1)
  --disable-run-cache      neither read nor write the cache
  --copy-style <style>     loaded_modules | all | none: what the offload code bundle holds
  --copy-bundle-to <dir>   where a dry run writes its bundle   default: <cache-dir>/offload/<run>
  --raw-data-path <dir>    folder for large data tasks write   default: <cache-dir>/raw/<run>
  --run-base-dir <dir>     the run's folder (report, logs)   default: <cache-dir>/runs/<run>
  --service-account <sa>   Kubernetes service account for offloaded actions
  --env KEY=VALUE          an environment variable for every pooled task of the run (repeatable)
  --custom-context K=V     a flyte.ctx().customContext entry (repeatable)
  --pin-cpus               give every attempt whole cores of its own
  --max-action-concurrency <n>  at most n actions of the run at once (awaiting parents lend theirs)

Output options:
  --verbose          print stacks with errors, and where the run record was written
  --logs             show what tasks print, each line prefixed by its task and action
  --quiet            show no progress and no summary (outputs and errors only)
  --json             print the run's events on stdout, one JSON object per line, then
                     {"type":"outputs","value":...}
  -h, --help         show this help

Options may also come before <file>; there they never bind to a task parameter, which matters
only for a task with a parameter of the same name as an option.

Progress goes to stderr: on a terminal, a tree of the run's actions redrawn in place (large
groups collapsed to one line of counts); otherwise one line per event. A summary ends it, with
the path of the run's HTML report. Task output is captured into the run's folder
(\`flyte-ts runs logs <run>\`), and shown only with --logs.

Exit status: 0 when the task succeeded, 1 when it failed, 2 when the command line was wrong
(a value that does not fit its parameter, a run name already stored), 130 when the run was
interrupted (Ctrl-C) or cancelled, 143 on SIGTERM, 129 on SIGHUP (each cancels the run and stops
its workers first).

Examples:
  flyte-ts run examples/quickstart.ts main --n 10
  flyte-ts run --name nightly pipeline.ts train --lr 0.01 --layers '[64, 32]'
  flyte-ts run --env LOG_LEVEL=debug --overwrite-cache examples/caching.ts main
`;

/** `flyte-ts cache --help`. */
export const cacheHelp = `Usage: flyte-ts cache <command> [options]

Commands:
  ls [--task <name>]                      list cached entries, newest first: key, task, size, age
  show <key>                              print one entry's output (a key prefix works)
  stats                                   entries, stored objects, bytes inline and in blob files
  clear [--task <name>]                   remove every entry (or those of one task)
  prune [--older-than 7d] [--max-size 1G] remove entries written before a time, then the oldest
                                          until the cache fits the size

Options:
  --cache-dir <dir>  the .flyte folder   default: $FLYTE_TS_HOME, else ./.flyte
  --json             print JSON instead of a table
`;

/** `flyte-ts runs --help`. */
export const runsHelp = `Usage: flyte-ts runs <command> [options]

Commands:
  ls [--limit n] [--status s] [--since t]   list stored runs, newest first: name, task, status,
                                            actions, start time, duration. --status is one of
                                            running, succeeded, failed, cancelled, died (a run
                                            whose process is gone); --since is "2h", "7d" or a date
  show <run> [<action>]                     one run's actions (or one action in detail)
  logs <run> [<action>]                     what a run's tasks wrote to stdout and stderr
  cancel <run> [--timeout 30s]              ask the process running <run> to cancel it, and wait
  rm <run> [<run> ...]                      remove runs: their records, reports and logs
  prune --older-than <duration>             remove finished runs started before then

Options:
  --cache-dir <dir>  the .flyte folder   default: $FLYTE_TS_HOME, else ./.flyte
  --json             print JSON instead of a table
`;
