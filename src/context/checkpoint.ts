/**
 * Checkpoints: `flyte.ctx().checkpoint` lets a long body (a training loop) save its progress and
 * start from it again after a crash, a `maxRuntime` kill, a retry or a resumed run. One
 * checkpoint per action, in the action's folder (`<runBaseDir>/<action>/checkpoint`): the action
 * id is stable across attempts and across a resume of the same run, so every later attempt sees
 * the last one saved. Saves are atomic: the bytes go to a temporary file that is fsynced and
 * then renamed over the old checkpoint, so a `kill -9` mid-save leaves the previous one readable.
 * @module
 */

import { constants, statSync } from "node:fs";
import { copyFile, mkdir, open, readFile, rename, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeSystemError } from "../errors.js";
import { nodeCrypto } from "../internal/node-crypto.js";
import { describe } from "../internal/problems.js";

/** The checkpoint file's name inside an action's folder. */
export const CHECKPOINT_FILE = "checkpoint";

/**
 * An action's checkpoint, reached through `flyte.ctx().checkpoint` inside a task body.
 *
 * @example
 * ```ts
 * const train = env.task({ retries: 3 }, async function train(epochs: number) {
 *   const cp = flyte.ctx()!.checkpoint;
 *   let epoch = Number((await cp.load())?.toString() ?? 0);
 *   for (; epoch < epochs; epoch++) {
 *     await step(epoch);
 *     await cp.save(Buffer.from(String(epoch + 1)));
 *   }
 *   return epoch;
 * });
 * ```
 */
export class Checkpoint {
  /** The checkpoint file: `<runBaseDir>/<action>/checkpoint`. It exists once a save finished. */
  readonly path: string;
  readonly #folder: string;
  readonly #action: string;

  /** @param folder - the action's folder (`ctx().outputPath`); @param action - its name, for messages. */
  constructor(folder: string, action: string) {
    this.#folder = folder;
    this.#action = action;
    this.path = join(folder, CHECKPOINT_FILE);
  }

  /**
   * Saves `data` as the action's checkpoint, replacing the previous one atomically. `data` is the
   * bytes themselves (a Buffer or any Uint8Array), or the path of a regular file whose bytes are
   * copied (a directory is refused: pack it into one file, e.g. a tar, first). Resolves once the
   * checkpoint is on disk (fsynced).
   * @throws TypeError when `data` is neither bytes nor a path to a regular file.
   * @throws RuntimeSystemError (code `CheckpointNoSpace`) when the disk is full, or (code
   *   `CheckpointNotSaved`) when the folder cannot be written; the previous checkpoint stays
   *   intact and readable.
   */
  async save(data: Uint8Array | string): Promise<void> {
    let source: string | undefined;
    let bytes: number;
    if (data instanceof Uint8Array) {
      bytes = data.byteLength;
    } else if (typeof data === "string" && data !== "") {
      source = data;
      bytes = await this.#fileSize(data);
    } else {
      throw new TypeError(
        `Expected the checkpoint of action \`${this.#action}\` to be a Buffer, a Uint8Array or the path of a file, got ${describe(data)}. Encode the state to bytes first (e.g. Buffer.from(JSON.stringify(state))).`,
      );
    }
    const temporary = join(
      this.#folder,
      `.${CHECKPOINT_FILE}.${process.pid}-${nodeCrypto().randomBytes(4).toString("hex")}.tmp`,
    );
    try {
      await mkdir(this.#folder, { recursive: true });
      if (source === undefined) {
        const file = await open(temporary, "wx");
        try {
          await file.writeFile(data as Uint8Array);
          await file.sync();
        } finally {
          await file.close();
        }
      } else {
        await copyFile(source, temporary, constants.COPYFILE_EXCL);
        const file = await open(temporary, "r+");
        try {
          await file.sync();
        } finally {
          await file.close();
        }
      }
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {});
      throw await this.#saveError(error, bytes);
    }
    await syncFolder(this.#folder);
  }

  /**
   * The bytes of the last checkpoint saved by this action (in any earlier attempt, or before the
   * run was resumed), or `undefined` when none was saved yet.
   */
  async load(): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new RuntimeSystemError(
        `Cannot read the checkpoint of action \`${this.#action}\` at ${this.path}: ${(error as Error).message}. Check the file's permissions, or delete it to start over.`,
        { cause: error, code: "CheckpointUnreadable" },
      );
    }
  }

  async #fileSize(path: string): Promise<number> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new TypeError(
        `The checkpoint path ${path} given to action \`${this.#action}\` cannot be read (${(error as Error).message}). Pass the path of an existing file, or the bytes themselves.`,
        { cause: error },
      );
    }
    if (!info.isFile()) {
      throw new TypeError(
        `The checkpoint path ${path} given to action \`${this.#action}\` is not a regular file${info.isDirectory() ? " but a directory" : ""}. Pack a directory into one file (e.g. a tar) and save that, or save bytes.`,
      );
    }
    return info.size;
  }

  async #saveError(error: unknown, bytes: number): Promise<Error> {
    const code = (error as NodeJS.ErrnoException).code;
    const previous = previousSize(this.path);
    const kept =
      previous === undefined
        ? "No earlier checkpoint exists."
        : `The previous checkpoint (${formatBytes(previous)}) is intact.`;
    if (code !== "ENOSPC" && code !== "EDQUOT") {
      return new RuntimeSystemError(
        `Cannot save the checkpoint of action \`${this.#action}\` in ${this.#folder}: ${(error as Error).message}. ${kept} Check that the run's folder is writable.`,
        { cause: error, code: "CheckpointNotSaved" },
      );
    }
    const free = await statfs(this.#folder).then(
      (s) => `${formatBytes(s.bavail * s.bsize)} free`,
      () => "free space unknown",
    );
    return new RuntimeSystemError(
      `Cannot save the checkpoint of action \`${this.#action}\` (${formatBytes(bytes)}) in ${this.#folder}: the disk is full (${free}). ${kept} ` +
        "Free disk space, save a smaller checkpoint, or point the run elsewhere (`withRunContext({ runBaseDir })`).",
      { cause: error, code: "CheckpointNoSpace" },
    );
  }
}

/** Makes the rename durable: fsync the folder that holds the checkpoint (where the FS allows). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}

function previousSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Whether action folder `folder` holds a saved checkpoint, and its size in bytes. */
export function checkpointSize(folder: string): number | undefined {
  return previousSize(join(folder, CHECKPOINT_FILE));
}
