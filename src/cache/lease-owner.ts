/**
 * Who holds a `serialize: true` lease, in a form other processes can check: the host (name and
 * boot), the process id and the process's start time. A waiter on the same host sees at once that
 * the holder is gone (no such process, or another process under a reused pid) and takes the
 * lease over instead of waiting for it to expire; a holder on another host can only expire.
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

const prefix = "v2";

let host: string | undefined;

/** This host: its name and, on Linux, the id of its current boot (pids restart at each boot). */
function thisHost(): string {
  if (host === undefined) {
    let boot = "";
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      // Not Linux: the name alone.
    }
    host = `${hostname()}/${boot}`.replaceAll("|", "_");
  }
  return host;
}

/** When process `pid` started (clock ticks since boot, Linux), `""` where that cannot be read. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ESRCH" ? undefined : "";
  }
  // Field 22, counted after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? "";
}

/** A new owner id for a lease taken by this process. */
export function newLeaseOwner(): string {
  const started = processStartTime(process.pid) ?? "";
  return [prefix, thisHost(), process.pid, started, randomBytes(6).toString("hex")].join("|");
}

/**
 * Whether the process that holds a lease as `owner` is certainly gone: it ran on this host and
 * no process has its pid any more, or one does that started at another time. `false` when that
 * cannot be told (another host, an owner written by an older flyte-ts).
 */
export function leaseHolderIsGone(owner: string): boolean {
  const [version, ownerHost, pidText, started] = owner.split("|");
  if (version !== prefix || ownerHost !== thisHost()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  const now = processStartTime(pid);
  if (now === undefined) return true;
  return started !== undefined && started !== "" && now !== "" && now !== started;
}
