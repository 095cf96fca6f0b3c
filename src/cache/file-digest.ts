/**
 * The content digest of a file input: SHA-256 read in 4 MiB chunks (memory stays flat for any
 * size), remembered by (path, size, mtime) so an unchanged file is never read twice — within a
 * process, and across processes through the cache database's `file_digests` table.
 * @module
 */

import { closeSync, openSync, readSync, statSync } from "node:fs";
import { nodeCrypto } from "../internal/node-crypto.js";

/** A persistent memo of file digests (the SQLite cache provides one). */
export interface DigestMemo {
  get(path: string, size: number, mtimeNs: string): Buffer | undefined;
  set(path: string, size: number, mtimeNs: string, digest: Buffer): void;
}

const CHUNK_BYTES = 4 << 20;
const memory = new Map<string, { size: number; mtimeNs: string; digest: Buffer }>();
let persistent: DigestMemo | undefined;
let chunk: Buffer | undefined;

/** Forgets the digests remembered in this process (tests use it to act as a new process). */
export function forgetDigests(): void {
  memory.clear();
}

/** Uses `memo` to remember digests across processes (the default stores set this). */
export function useDigestMemo(memo: DigestMemo | undefined): void {
  persistent = memo;
}

/**
 * The SHA-256 of the file at `path` (32 bytes) and its size.
 * @throws Error (from `fs`) when the file cannot be read.
 */
export function fileDigest(path: string): { readonly size: number; readonly digest: Buffer } {
  const stat = statSync(path, { bigint: true });
  const size = Number(stat.size);
  const mtimeNs = `${stat.mtimeNs}:${stat.ino}`;
  const known = memory.get(path);
  if (known !== undefined && known.size === size && known.mtimeNs === mtimeNs) {
    return { size, digest: known.digest };
  }
  let digest = persistent?.get(path, size, mtimeNs);
  if (digest === undefined) {
    digest = hashFile(path);
    persistent?.set(path, size, mtimeNs, digest);
  }
  memory.set(path, { size, mtimeNs, digest });
  return { size, digest };
}

function hashFile(path: string): Buffer {
  const hash = nodeCrypto().createHash("sha256");
  chunk ??= Buffer.allocUnsafe(CHUNK_BYTES);
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest();
}
