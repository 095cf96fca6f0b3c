/**
 * How stored outputs become bytes and back: Node's structured-clone serializer (`node:v8`), so
 * every value a task may hand its parent (Map, Set, Date, BigInt, typed arrays, `undefined`,
 * shared and cyclic references) comes back as it went in.
 * @module
 */
import { hash } from "node:crypto";
import { deserialize, serialize } from "node:v8";

/** A value's stored bytes and their hex SHA-256 (the content address). */
export interface EncodedValue {
  readonly bytes: Buffer;
  readonly hash: string;
}

/** Encodes `value`; throws a DataCloneError for values that cannot be stored (functions, symbols). */
export function encodeValue(value: unknown): EncodedValue {
  const bytes = encodeBytes(value);
  return { bytes, hash: sha256(bytes) };
}

/** {@link encodeValue}'s bytes alone, for a caller that needs no content hash. */
export function encodeBytes(value: unknown): Buffer {
  return serialize(value);
}

/** Decodes bytes written by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/** Hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return hash("sha256", bytes, "hex");
}
