/**
 * The content digest of a directory input: SHA-256 over its tree, entry by entry, depth first,
 * names sorted by code unit (the same order on every host), each named by its relative path
 * (`/`-separated). A file is its relative path, size and content digest (from
 * `file-digest.ts`, whose memo means an unchanged file costs a `stat`, and a touched one is read
 * again alone); a directory is its relative path, so an empty one counts. Symbolic links are
 * followed: a link counts as the file or directory it points to (what the task reads); a
 * dangling link, a link cycle, or a socket, FIFO or device is refused.
 * @module
 */

import type { Hash } from "node:crypto";
import { type Dirent, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { nodeCrypto } from "../internal/node-crypto.js";
import { fileDigest } from "./file-digest.js";

/** A directory's digest: how many files it holds, their total size, and the tree's SHA-256. */
export interface DirDigest {
  readonly files: number;
  readonly bytes: number;
  readonly digest: Buffer;
}

/**
 * The digest of the directory at `path`.
 * @throws Error naming the path when it is not a directory, or when something under it cannot
 *   be read or is not a file or directory.
 */
export function dirDigest(path: string): DirDigest {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new Error(`${path} cannot be read (${(error as Error).message})`, { cause: error });
  }
  if (!stat.isDirectory()) throw new Error(`${path} is not a directory`);
  const hash = nodeCrypto().createHash("sha256");
  const totals = { files: 0, bytes: 0 };
  walk(path, "", hash, totals, [realpathSync(path)]);
  return { ...totals, digest: hash.digest() };
}

function walk(
  absolute: string,
  relative: string,
  hash: Hash,
  totals: { files: number; bytes: number },
  ancestors: string[],
): void {
  const entries = readdirSync(absolute, { withFileTypes: true }).sort(byName);
  for (const entry of entries) {
    const path = join(absolute, entry.name);
    const name = relative === "" ? entry.name : `${relative}/${entry.name}`;
    const kind = kindOf(entry, path);
    if (kind === "file") {
      const { size, digest } = fileDigest(path);
      record(hash, "f", name);
      const sizeBytes = Buffer.alloc(8);
      sizeBytes.writeBigUInt64BE(BigInt(size));
      hash.update(sizeBytes);
      hash.update(digest);
      totals.files++;
      totals.bytes += size;
    } else {
      record(hash, "d", name);
      const real = realpathSync(path);
      if (ancestors.includes(real)) {
        throw new Error(`${path} is a symbolic link to ${real}, which contains it (a cycle)`);
      }
      ancestors.push(real);
      walk(path, name, hash, totals, ancestors);
      ancestors.pop();
    }
  }
}

function kindOf(entry: Dirent, path: string): "file" | "directory" {
  if (entry.isFile()) return "file";
  if (entry.isDirectory()) return "directory";
  if (entry.isSymbolicLink()) {
    let target: ReturnType<typeof statSync>;
    try {
      target = statSync(path);
    } catch (error) {
      throw new Error(
        `${path} is a symbolic link that cannot be followed (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
    if (target.isFile()) return "file";
    if (target.isDirectory()) return "directory";
  }
  throw new Error(`${path} is neither a file nor a directory (a socket, FIFO or device)`);
}

function record(hash: Hash, tag: "f" | "d", name: string): void {
  const bytes = Buffer.from(name, "utf8");
  const header = Buffer.alloc(5);
  header.write(tag, 0, "ascii");
  header.writeUInt32BE(bytes.length, 1);
  hash.update(header);
  hash.update(bytes);
}

// Code-unit order of the names: the same on every host, whatever the locale.
function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
