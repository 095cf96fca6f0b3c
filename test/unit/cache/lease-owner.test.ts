// Whether a lease's holder is certainly gone: only a process of this host that no longer runs.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  leaseHolderIsGone,
  newLeaseOwner,
  processStartTime,
} from "../../../src/cache/lease-owner.js";

describe("a lease holder", () => {
  it("is alive while its process runs", () => {
    expect(leaseHolderIsGone(newLeaseOwner())).toBe(false);
  });

  it("is gone once its process on this host has exited", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    const pid = child.pid as number;
    const owner = newLeaseOwner().replace(
      `|${process.pid}|${processStartTime(process.pid)}|`,
      `|${pid}|${processStartTime(pid)}|`,
    );
    expect(leaseHolderIsGone(owner)).toBe(false);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(leaseHolderIsGone(owner)).toBe(true);
  });

  it("is gone when its pid now belongs to a process that started at another time", () => {
    const reused = newLeaseOwner().replace(
      `|${processStartTime(process.pid)}|`,
      `|${Number(processStartTime(process.pid)) + 1}|`,
    );
    expect(leaseHolderIsGone(reused)).toBe(process.platform === "linux");
  });

  it("cannot be told gone on another host, nor from an older flyte-ts's owner id", () => {
    const [version, , ...rest] = newLeaseOwner().split("|");
    expect(leaseHolderIsGone([version, "elsewhere/boot", ...rest].join("|"))).toBe(false);
    expect(leaseHolderIsGone("12345-abcdef")).toBe(false);
  });
});
