/**
 * Talking to a Slurm cluster: `sbatch`, `squeue` and `scancel`, run on this host or on a login
 * host over SSH. Environment variables for the job travel in sbatch's own environment (here) or
 * inside the SSH session's input (over SSH): never on a command line or in a file.
 * @module
 */
import type { spawn as Spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { Slurm } from "../api/slurm.js";
import { DeploymentError, RuntimeSystemError } from "../errors.js";
import { shellJoin, shellQuote } from "./shell.js";

/** What a finished command left. `code` 127: the program was not found. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started here at all (not found, not executable). */
  readonly notStarted?: true;
}

/** Options of {@link SlurmCommands.run}. */
export interface RunCommandOptions {
  /** Written to the command's stdin. */
  readonly input?: string;
  /** Added to the command's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Kills the command after this long. @default 60000 (milliseconds) */
  readonly timeoutMs?: number;
}

/** Runs Slurm's commands where the cluster says. */
export interface SlurmCommands {
  /** `"this host"` or `"user@login over SSH"`, for messages. */
  readonly where: string;
  run(argv: readonly string[], options?: RunCommandOptions): Promise<CommandResult>;
}

/** A job's state as `squeue` reports it. */
export interface SlurmJobState {
  /** `"123"`, or `"123_4"` for item 4 of array job 123. */
  readonly id: string;
  /** `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, ... (without decorations). */
  readonly state: string;
  /** Why it is pending (or how it ended), e.g. `Resources`; `undefined` for `None`. */
  readonly reason: string | undefined;
  /** The node it runs on, once it runs. */
  readonly node: string | undefined;
}

/** The commands of `cluster`: spawned here, or through `ssh` to its login host. */
export function slurmCommands(
  cluster: Slurm,
  hostEnv: NodeJS.ProcessEnv = process.env,
): SlurmCommands {
  if (cluster.host === undefined) {
    return {
      where: cluster.describeWhere(),
      run: (argv, options = {}) =>
        spawnCommand(argv[0] as string, argv.slice(1), {
          ...options,
          env: { ...hostEnv, ...options.env },
        }),
    };
  }
  const target = cluster.host;
  const sshArgs = [
    ...cluster.sshArgs,
    ...["-o", "BatchMode=yes"],
    ...(cluster.port === undefined ? [] : ["-p", String(cluster.port)]),
    ...(cluster.username === undefined ? [] : ["-l", cluster.username]),
    target,
    "sh -s",
  ];
  return {
    where: cluster.describeWhere(),
    run: (argv, options = {}) =>
      spawnCommand(cluster.ssh, sshArgs, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        input: remoteScript(argv, options),
        env: { ...hostEnv },
      }),
  };
}

/**
 * What the login host's shell reads: the job's variables exported, then the command, its input
 * as a here-document. The values stay inside the SSH session.
 */
function remoteScript(argv: readonly string[], options: RunCommandOptions): string {
  const lines = Object.entries(options.env ?? {}).map(
    ([name, value]) => `export ${name}=${shellQuote(value)}`,
  );
  if (options.input === undefined) {
    lines.push(`exec ${shellJoin(argv)} </dev/null`);
  } else {
    const end = `FLYTE_TS_INPUT_${randomBytes(6).toString("hex")}`;
    lines.push(`exec ${shellJoin(argv)} <<'${end}'`, options.input.replace(/\n$/, ""), end);
  }
  return `${lines.join("\n")}\n`;
}

function spawnCommand(
  command: string,
  args: readonly string[],
  options: Omit<RunCommandOptions, "env"> & { env: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  // Required here, not imported: importing flyte-ts must not load child_process.
  const { spawn } = createRequire(import.meta.url)("node:child_process") as { spawn: typeof Spawn };
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60_000);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    // A command that exits without reading its input must not crash the engine (EPIPE).
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = error.code === "ENOENT" ? 127 : 126;
      resolve({ code, stdout: "", stderr: error.message, notStarted: true });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({
        code: code ?? 128,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: timedOut
          ? `${stderr}\n${command} did not finish within ${(options.timeoutMs ?? 60_000) / 1000} s and was killed.`
          : signal !== null && code === null
            ? `${stderr}\n${command} was killed by ${signal}.`
            : stderr,
      });
    });
  });
}

/** What to do about a Slurm that cannot be reached, by where sbatch runs. */
function configureHint(cluster: Slurm): string {
  return cluster.host === undefined
    ? 'Run on a login node of the cluster (where `sbatch` works), or name the login host: offload: new flyte.Slurm({ host: "login.example.edu" }).'
    : `Check that \`ssh ${cluster.host}\` works without a prompt (keys, known_hosts; flyte-ts sets BatchMode=yes) and that \`sbatch\` is on the login shell's PATH there, or pass \`sshArgs\`.`;
}

/** Slurm's own lines from its stderr, without the `sbatch: error:` prefixes. */
export function slurmReason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.replace(/^\w+: (error|fatal): /, "").trim())
    .filter((line) => line !== "");
  return lines.join(" ") || "(no message)";
}

/**
 * Submits `script` with `sbatch --parsable` and resolves with the job id.
 * @throws DeploymentError `NoSbatch` when sbatch (or ssh) is not there, `SlurmUnreachable` when
 * the login host or the controller cannot be reached, `SlurmRefused` (with Slurm's reason) when
 * Slurm refuses the job
 */
export async function sbatch(
  commands: SlurmCommands,
  cluster: Slurm,
  script: string,
  env: Readonly<Record<string, string>>,
  what: string,
): Promise<string> {
  const result = await commands.run(["sbatch", "--parsable"], { input: script, env });
  const id = /^(\d+)(;\S+)?\s*$/.exec(result.stdout.trim().split("\n").at(-1) ?? "")?.[1];
  if (result.code === 0 && id !== undefined) return id;
  throw submitError(result, cluster, commands.where, what);
}

function submitError(
  result: CommandResult,
  cluster: Slurm,
  where: string,
  what: string,
): DeploymentError {
  const reason = slurmReason(result.stderr);
  const sshFailed = cluster.host !== undefined && result.code === 255;
  if (result.notStarted && cluster.host === undefined) {
    return new DeploymentError(
      `${what} must run on Slurm, but \`sbatch\` is not on this host's PATH. ${configureHint(cluster)}`,
      { code: "NoSbatch" },
    );
  }
  if (result.notStarted) {
    return new DeploymentError(
      `${what} must run on Slurm over SSH, but the ssh program "${cluster.ssh}" was not found here. Install an OpenSSH client, or set \`ssh\` in flyte.Slurm.`,
      { code: "NoSbatch" },
    );
  }
  if (result.code === 127) {
    return new DeploymentError(
      `${what} must run on Slurm, but \`sbatch\` is not on the PATH of ${where}: ${reason}. ${configureHint(cluster)}`,
      { code: "NoSbatch" },
    );
  }
  if (
    sshFailed ||
    /contact slurm controller|establish a configuration source|Connection refused|Unable to resolve|Zero Bytes were transmitted/i.test(
      result.stderr,
    )
  ) {
    return new DeploymentError(
      `${what} must run on Slurm, but no cluster could be reached from ${where}: ${reason}. ${configureHint(cluster)}`,
      { code: "SlurmUnreachable" },
    );
  }
  return new DeploymentError(
    `Slurm refused ${what}: ${reason}. Check the partition, account, qos and sbatchOptions of flyte.Slurm and the task's Resources against \`sinfo\`.`,
    { code: "SlurmRefused" },
  );
}

/**
 * The states of `ids` (jobs, or items of array jobs) that Slurm still knows, from one `squeue`
 * call. A job Slurm has forgotten (finished longer ago than its MinJobAge) is absent.
 * @throws RuntimeSystemError when squeue fails for another reason
 */
export async function squeue(
  commands: SlurmCommands,
  ids: readonly string[],
): Promise<Map<string, SlurmJobState>> {
  const jobs = [...new Set(ids.map((id) => id.split("_")[0] as string))];
  const states = new Map<string, SlurmJobState>();
  if (jobs.length === 0) return states;
  const result = await commands.run([
    "squeue",
    "--noheader",
    "--states=all",
    "--array",
    "--format=%i|%T|%r|%N",
    `--jobs=${jobs.join(",")}`,
  ]);
  if (result.code !== 0) {
    // squeue fails like this when it knows none of the jobs: they all finished long ago.
    if (/Invalid job id/i.test(result.stderr)) return states;
    throw new RuntimeSystemError(
      `squeue failed on ${commands.where}: ${slurmReason(result.stderr)}`,
    );
  }
  for (const state of parseSqueue(result.stdout)) states.set(state.id, state);
  return states;
}

/** Parses `squeue --format=%i|%T|%r|%N` lines. */
export function parseSqueue(text: string): SlurmJobState[] {
  const states: SlurmJobState[] = [];
  for (const line of text.split("\n")) {
    const [id, state, reason, node] = line.trim().split("|");
    if (!id || !state) continue;
    states.push({
      id,
      // "CANCELLED by 0" and "CANCELLED+" are CANCELLED.
      state: (state.split(/\s/)[0] ?? "").replace(/\+$/, "").toUpperCase(),
      reason: reason && reason !== "None" ? reason : undefined,
      node: node ? node : undefined,
    });
  }
  return states;
}

/** Cancels `ids` with one `scancel`; a job that already ended is not an error. */
export async function scancel(commands: SlurmCommands, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const result = await commands.run(["scancel", ...ids]);
  if (result.code !== 0 && !/Invalid job id|already completing or completed/i.test(result.stderr)) {
    console.error(
      `flyte-ts: scancel ${ids.join(" ")} failed on ${commands.where}: ${slurmReason(result.stderr)}`,
    );
  }
}
