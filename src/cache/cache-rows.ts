/**
 * Cache writes as packed rows: {@link RowPacker} lays each write out in one growing buffer, and
 * {@link writeRows} turns such a buffer into `entries` and `objects` rows. The same buffer is
 * written on the calling thread (a small batch) or posted, as one copy, to the cache writer
 * thread (cache-writer.ts): no per-row structured clone.
 *
 * A row is a header (flags, then the byte lengths of key, task and output) followed by
 * `key \n task \n output`: the bytes an inline entry's seal covers ({@link inlineSealOf}), so it is
 * hashed where it lies, without a copy, as the row is packed. The seal follows (an inline
 * entry's), or, for a row that points at an object, its size, content hash, seal and masked copy.
 * Sealing as it packs keeps the writer thread, the slower side of a large batch (its inserts),
 * from spending a microsecond a row on it.
 * @module
 */
import type { Statement } from "better-sqlite3";
import { inlineSealOf } from "./cache-schema.js";
import type { Database } from "./database.js";

/** Bits of a row's first byte. */
const Flag = {
  /** The row points at an object (stored once by content hash); otherwise it holds its output. */
  object: 1,
  /** The object was found damaged: its row is replaced, not kept. */
  replace: 2,
  /** The object's bytes live in a blob file: its row has no data. */
  blob: 4,
  /** The object holds a known secret: a masked copy follows. */
  masked: 8,
} as const;

/** flags (1 byte), then the key's, task's and output's byte lengths (4 bytes each). */
const HEADER_BYTES = 13;
const NEWLINE = 0x0a;
/** An inline entry's seal: 32 hex digits. */
const SEAL_BYTES = 32;

/** A write as {@link RowPacker.add} takes it. */
export interface RowWrite {
  readonly key: string;
  readonly task: string;
  /** The output's encoded bytes. */
  readonly bytes: Uint8Array;
  /** For an output stored by content hash: its hash, the entry's seal and how it is kept. */
  readonly object?: {
    readonly hash: string;
    readonly seal: string;
    /** Its bytes are in a blob file, not in the row. */
    readonly blob: boolean;
    /** It was found damaged: replace the stored row. */
    readonly replace: boolean;
    /** The output with known secret values masked, when it held one. */
    readonly masked: Uint8Array | undefined;
  };
}

/** Packs writes into one buffer; {@link take} hands it over and starts a new one. */
export class RowPacker {
  #buffer: Buffer;
  #used = 0;
  #rows = 0;

  /** @param capacityBytes - the first buffer's size; it doubles as needed. */
  constructor(capacityBytes = 16_384) {
    this.#buffer = Buffer.allocUnsafeSlow(capacityBytes);
  }

  /** Writes packed so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Bytes packed so far. */
  get bytes(): number {
    return this.#used;
  }

  /** Appends one write. */
  add({ key, task, bytes, object }: RowWrite): void {
    const masked = object?.masked;
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    const most =
      HEADER_BYTES +
      3 * (key.length + task.length) +
      2 +
      (object === undefined
        ? bytes.byteLength + SEAL_BYTES
        : (object.blob ? 0 : bytes.byteLength) +
          12 +
          3 * (object.hash.length + object.seal.length) +
          (masked?.byteLength ?? 0));
    this.#reserve(most);
    const b = this.#buffer;
    const start = this.#used;
    let at = start + HEADER_BYTES;
    const keyBytes = b.write(key, at, "utf8");
    at += keyBytes;
    b[at++] = NEWLINE;
    const taskBytes = b.write(task, at, "utf8");
    at += taskBytes;
    b[at++] = NEWLINE;
    let flags = 0;
    let packedBytes = bytes.byteLength;
    if (object === undefined || !object.blob) b.set(bytes, at);
    else packedBytes = 0;
    at += packedBytes;
    if (object === undefined) {
      at += b.write(inlineSealOf(b.subarray(start + HEADER_BYTES, at)), at, "latin1");
    } else {
      flags =
        Flag.object |
        (object.replace ? Flag.replace : 0) |
        (object.blob ? Flag.blob : 0) |
        (masked === undefined ? 0 : Flag.masked);
      b.writeUInt32LE(bytes.byteLength, at);
      at = putString(b, object.hash, at + 4);
      at = putString(b, object.seal, at);
      if (masked !== undefined) {
        b.writeUInt32LE(masked.byteLength, at);
        b.set(masked, at + 4);
        at += 4 + masked.byteLength;
      }
    }
    b[start] = flags;
    b.writeUInt32LE(keyBytes, start + 1);
    b.writeUInt32LE(taskBytes, start + 5);
    b.writeUInt32LE(packedBytes, start + 9);
    this.#used = at;
    this.#rows++;
  }

  /** The rows packed so far, in a buffer of their own (its exact size); the packer starts empty. */
  take(): Uint8Array {
    const rows = this.#buffer.subarray(0, this.#used);
    const taken = new Uint8Array(rows.byteLength);
    taken.set(rows);
    this.#used = 0;
    this.#rows = 0;
    return taken;
  }

  #reserve(bytes: number): void {
    const needed = this.#used + bytes;
    if (needed <= this.#buffer.byteLength) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, 2 * this.#buffer.byteLength));
    this.#buffer.copy(grown, 0, 0, this.#used);
    this.#buffer = grown;
  }
}

function putString(b: Buffer, text: string, at: number): number {
  const n = b.write(text, at + 4, "utf8");
  b.writeUInt32LE(n, at);
  return at + 4 + n;
}

/** The statements {@link writeRows} runs, prepared once per connection. */
export interface RowStatements {
  readonly putEntry: Statement;
  /** Same hash, same bytes: an object already stored is left as it is. */
  readonly putObject: Statement;
  /** For an object found damaged. */
  readonly replaceObject: Statement;
}

/** Prepares {@link RowStatements} on `db`. */
export function prepareRowStatements(db: Database): RowStatements {
  return {
    putEntry: db.prepare(
      "INSERT OR REPLACE INTO entries (key, task, hash, created_at, seal, data) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    putObject: db.prepare(
      "INSERT OR IGNORE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    ),
    replaceObject: db.prepare(
      "INSERT OR REPLACE INTO objects (hash, size, data, masked) VALUES (?, ?, ?, ?)",
    ),
  };
}

/**
 * Writes every row packed in `rows` (an entry row each, an object row for each output stored
 * by content hash), written at `nowMs`; returns how many. The caller holds the transaction.
 */
export function writeRows(s: RowStatements, rows: Uint8Array, nowMs: number): number {
  const b = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength);
  let at = 0;
  let count = 0;
  while (at < b.byteLength) {
    const flags = b[at] as number;
    const keyAt = at + HEADER_BYTES;
    const taskAt = keyAt + b.readUInt32LE(at + 1) + 1;
    const bytesAt = taskAt + b.readUInt32LE(at + 5) + 1;
    const end = bytesAt + b.readUInt32LE(at + 9);
    const key = b.toString("utf8", keyAt, taskAt - 1);
    const task = b.toString("utf8", taskAt, bytesAt - 1);
    const bytes = b.subarray(bytesAt, end);
    at = end;
    count++;
    if ((flags & Flag.object) === 0) {
      at += SEAL_BYTES;
      s.putEntry.run(key, task, "", nowMs, b.toString("latin1", end, at), bytes);
      continue;
    }
    const size = b.readUInt32LE(at);
    const hashEnd = at + 8 + b.readUInt32LE(at + 4);
    const hash = b.toString("latin1", at + 8, hashEnd);
    const sealEnd = hashEnd + 4 + b.readUInt32LE(hashEnd);
    const seal = b.toString("latin1", hashEnd + 4, sealEnd);
    at = sealEnd;
    let masked: Buffer | null = null;
    if ((flags & Flag.masked) !== 0) {
      const maskedEnd = at + 4 + b.readUInt32LE(at);
      masked = b.subarray(at + 4, maskedEnd);
      at = maskedEnd;
    }
    const put = (flags & Flag.replace) !== 0 ? s.replaceObject : s.putObject;
    put.run(hash, size, (flags & Flag.blob) !== 0 ? null : bytes, masked);
    s.putEntry.run(key, task, hash, nowMs, seal, null);
  }
  return count;
}
