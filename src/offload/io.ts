/**
 * The files an offloaded action reads and writes: its inputs, and in its outputs folder either
 * its outputs or an error file. Values are encoded with `v8.serialize` (the structured-clone
 * format: Map, Set, Date, BigInt, typed arrays and Errors round-trip), behind this one module so
 * the format can be switched. Every file is written atomically (a temporary file, then a rename),
 * so a reader never sees half a file.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { type ErrorData, errorFromData, errorToData, RuntimeSystemError } from "../errors.js";

/** The outputs file's name inside an action's outputs folder. */
export const OUTPUTS_FILE = "outputs.v8";
/** The error file's name inside an action's outputs folder (JSON). */
export const ERROR_FILE = "error.json";
/** The inputs file's usual name. */
export const INPUTS_FILE = "inputs.v8";

/** What an inputs file holds. */
export interface OffloadInputs {
  /** The task's arguments, in order. */
  readonly args: readonly unknown[];
  /** The run's custom context, seen by the task in `ctx().customContext`. */
  readonly customContext: Readonly<Record<string, string>>;
}

/** What an error file holds: {@link ErrorData} (code, kind, message, stack, cause). */
export type OffloadError = ErrorData;

/** Writes `data` to `path` atomically, creating its folder. */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/** Writes an inputs file. */
export function writeInputs(path: string, inputs: OffloadInputs): Promise<void> {
  return writeAtomically(path, serialize({ version: 1, ...inputs }));
}

/** Reads an inputs file. @throws RuntimeSystemError when it is missing or not an inputs file */
export async function readInputs(path: string): Promise<OffloadInputs> {
  let decoded: { version?: unknown; args?: unknown; customContext?: unknown };
  try {
    decoded = deserialize(await readFile(path));
  } catch (error) {
    throw new RuntimeSystemError(
      `Cannot read the inputs file ${path}: ${(error as Error).message}. Pass the file flyte-ts wrote for this action.`,
      { cause: error },
    );
  }
  if (decoded?.version !== 1 || !Array.isArray(decoded.args)) {
    throw new RuntimeSystemError(
      `${path} is not a flyte-ts inputs file (version 1). Pass the file flyte-ts wrote for this action.`,
    );
  }
  return {
    args: decoded.args,
    customContext: (decoded.customContext ?? {}) as Record<string, string>,
  };
}

/** Writes an action's outputs into its outputs folder. */
export function writeOutputs(folder: string, value: unknown): Promise<void> {
  return writeAtomically(join(folder, OUTPUTS_FILE), serialize({ version: 1, value }));
}

/**
 * Writes an action's error (code, kind, message, stack, cause) into its outputs folder. The
 * `stack` is the original error's (the task's own throw), not that of the engine's wrapper.
 */
export function writeError(folder: string, error: unknown): Promise<void> {
  const data = errorToData(error);
  const stack = data.cause?.stack ?? data.stack;
  const written = stack === undefined ? data : { ...data, stack };
  return writeAtomically(join(folder, ERROR_FILE), `${JSON.stringify(written, null, 2)}\n`);
}

/**
 * Reads what an action left in its outputs folder: resolves with its outputs, or rejects with its
 * error rebuilt into the same class.
 * @throws RuntimeSystemError when the folder holds neither file
 */
export async function readResult(folder: string): Promise<unknown> {
  const errorText = await readFile(join(folder, ERROR_FILE), "utf8").catch(() => undefined);
  if (errorText !== undefined) throw errorFromData(JSON.parse(errorText) as ErrorData);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(folder, OUTPUTS_FILE));
  } catch (error) {
    throw new RuntimeSystemError(
      `The offloaded action left neither ${OUTPUTS_FILE} nor ${ERROR_FILE} in ${folder}. ` +
        "Check the pod's logs (`kubectl logs job/<name>`) and that the folder is on a filesystem the pod shares with this host.",
      { cause: error },
    );
  }
  return (deserialize(bytes) as { value: unknown }).value;
}
