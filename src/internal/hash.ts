/**
 * Hash helpers: hex SHA-256 and the short base36 ids used for action names.
 * @module
 */
import * as crypto from "node:crypto";
import { createHash } from "node:crypto";

// The one-shot `crypto.hash` (Node >= 20.12) skips the Hash object; same digest.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, out: "hex") => string }).hash;

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A short, stable id: base36 of the first 64 bits of the MD5 of `text` (upstream's action-id shape). */
export function shortId(text: string): string {
  // Hex, not a Buffer: no allocation for the digest (this runs on every task call).
  const hex =
    oneShot === undefined
      ? createHash("md5").update(text).digest("hex")
      : oneShot("md5", text, "hex");
  return BigInt(`0x${hex.slice(0, 16)}`).toString(36);
}
