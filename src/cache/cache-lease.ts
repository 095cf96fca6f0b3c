/**
 * `Cache({ serialize: true })` across processes: a lease row in `cache.db` names the one caller
 * that computes a key; the others poll until its value is stored or its holder is gone.
 * @module
 */
import type { CacheHit, CacheLead } from "./cache-store.js";
import type { Database } from "./database.js";
import { leaseHolderIsGone, newLeaseOwner } from "./lease-owner.js";

/** What {@link leadKey} needs from its store. */
export interface LeadOptions {
  /** Called before each write of a lease (the store's writer thread may hold the write lock). */
  readonly beforeWrite: () => void;
  /** How long a lease lives without a heartbeat. Milliseconds. */
  readonly leaseMs: number;
  /** How often a waiter polls. Milliseconds. */
  readonly pollMs: number;
  /** The verified value stored under a key, if any. */
  readonly stored: (key: string) => CacheHit | undefined;
}

/**
 * Waits until `key` has a value (returned as `hit`) or this caller holds its lease (renewed
 * every `leaseMs / 3` until `release()`). Polls every `pollMs`: the other side is another process.
 */
export async function leadKey(
  db: Database,
  key: string,
  signal: AbortSignal,
  { beforeWrite, leaseMs, pollMs, stored: storedValue }: LeadOptions,
): Promise<CacheLead> {
  const owner = newLeaseOwner();
  const stored = db.prepare<[string], { found: number }>(
    "SELECT 1 AS found FROM entries WHERE key = ?",
  );
  // The value check and the lease are one transaction: a leader that stores its value and
  // releases between a waiter's check and its take would otherwise run the call twice.
  const take = db.transaction((now: number, unreadable: boolean): "stored" | "taken" | "held" => {
    if (!unreadable && stored.get(key) !== undefined) return "stored";
    const holder = db
      .prepare<[string], { owner: string; expires_at: number }>(
        "SELECT owner, expires_at FROM leases WHERE key = ?",
      )
      .get(key);
    // A holder on this host that has died is seen at once; one on another host only expires.
    if (holder !== undefined && holder.expires_at > now && !leaseHolderIsGone(holder.owner))
      return "held";
    db.prepare("INSERT OR REPLACE INTO leases (key, owner, expires_at) VALUES (?, ?, ?)").run(
      key,
      owner,
      now + leaseMs,
    );
    return "taken";
  });
  // A stored value that cannot be read (damaged; getNow warned) is computed again.
  let unreadable = false;
  for (;;) {
    signal.throwIfAborted();
    const hit = storedValue(key);
    if (hit !== undefined) return { hit };
    beforeWrite();
    const outcome = take.immediate(Date.now(), unreadable);
    if (outcome === "taken") break;
    if (outcome === "stored") unreadable = true;
    else await pause(pollMs, signal);
  }
  const renew = db.prepare("UPDATE leases SET expires_at = ? WHERE key = ? AND owner = ?");
  const heartbeat = setInterval(() => {
    try {
      beforeWrite();
      renew.run(Date.now() + leaseMs, key, owner);
    } catch {
      // A missed heartbeat at worst lets a waiter start early; the result is the same.
    }
  }, leaseMs / 3);
  heartbeat.unref();
  return {
    release: () => {
      clearInterval(heartbeat);
      try {
        beforeWrite();
        db.prepare("DELETE FROM leases WHERE key = ? AND owner = ?").run(key, owner);
      } catch {
        // The lease expires by itself.
      }
    },
  };
}

/** Waits `ms` of wall time, or until `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
