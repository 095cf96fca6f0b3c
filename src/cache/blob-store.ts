/**
 * Large cached outputs as files: `<home>/blobs/sha256/ab/<hash>`, written to a temporary name and
 * renamed (a reader never sees half a file), and checked against their hash on every read.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { warnOnce } from "../internal/warn.js";
import { sha256 } from "./value-codec.js";

/** Content-addressed files under one folder. */
export class BlobStore {
  readonly #root: string;

  /** @param root - the `blobs` folder, e.g. `.flyte/blobs`. */
  constructor(root: string) {
    this.#root = join(root, "sha256");
  }

  /** The file that holds (or would hold) the bytes with this hash. */
  path(hash: string): string {
    return join(this.#root, hash.slice(0, 2), hash);
  }

  /**
   * Stores `bytes` under `hash` unless a file of the right size is already there.
   * @throws the write's error (ENOSPC), after removing the temporary file
   */
  put(hash: string, bytes: Uint8Array): void {
    const file = this.path(hash);
    if (this.#size(file) === bytes.byteLength) return;
    mkdirSync(join(this.#root, hash.slice(0, 2)), { recursive: true });
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      writeFileSync(temporary, bytes);
      renameSync(temporary, file);
    } catch (error) {
      // A full disk leaves no half-written file behind.
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  /**
   * The bytes stored under `hash`, or `undefined` with one warning when the file is missing or
   * its content no longer matches its hash (a damaged file is removed).
   */
  get(hash: string): Buffer | undefined {
    const file = this.path(hash);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      warnOnce(`The cached blob ${file} is missing; the task runs again and rewrites it.`);
      return undefined;
    }
    if (sha256(bytes) !== hash) {
      warnOnce(
        `The cached blob ${file} is damaged (its content does not match its hash); it was removed and the task runs again.`,
      );
      rmSync(file, { force: true });
      return undefined;
    }
    return bytes;
  }

  /** Removes the file of `hash`, if any. */
  remove(hash: string): void {
    rmSync(this.path(hash), { force: true });
  }

  #size(file: string): number {
    try {
      return statSync(file).size;
    } catch {
      return -1;
    }
  }
}
