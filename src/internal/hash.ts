/**
 * Hash helpers: hex SHA-256 and the short base36 ids used for action names.
 * @module
 */
import { nodeCrypto } from "./node-crypto.js";

/** Hex SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return nodeCrypto().createHash("sha256").update(data).digest("hex");
}

/** A short, stable id: base36 of the first 64 bits of the MD5 of `text` (upstream's action-id shape). */
export function shortId(text: string): string {
  // Hex, not a Buffer: no allocation for the digest (this runs on every task call); the
  // one-shot `hash` skips the Hash object.
  const hex = nodeCrypto().hash("md5", text, "hex");
  return BigInt(`0x${hex.slice(0, 16)}`).toString(36);
}
