// The checkpoint file: atomic saves (a SIGKILL mid-save leaves the previous one whole), bad
// input refused with a TypeError, and a full disk reported with the free space, nothing lost.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Checkpoint } from "../../../src/context/checkpoint.js";
import { RuntimeSystemError } from "../../../src/errors.js";
import { repoRoot } from "../../fixtures/cli/cli-process.js";

const newDir = () => mkdtempSync(join(tmpdir(), "flyte-ts-ckpt-unit-"));

/** A 1 MiB tmpfs, when this process may mount one (root in a container that allows it). */
function tinyDisk(): string | undefined {
  const dir = newDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    return undefined;
  }
}
const disk = process.getuid?.() === 0 ? tinyDisk() : undefined;
afterAll(() => {
  if (disk !== undefined) execFileSync("umount", [disk]);
});

describe("Checkpoint", () => {
  it("loads nothing before the first save, then the last bytes saved", async () => {
    const checkpoint = new Checkpoint(join(newDir(), "a0"), "a0");
    expect(await checkpoint.load()).toBeUndefined();
    await checkpoint.save(Buffer.from("one"));
    await checkpoint.save(new TextEncoder().encode("two"));
    expect((await checkpoint.load())?.toString()).toBe("two");
  });

  it("copies the bytes of a file given by path", async () => {
    const dir = newDir();
    const source = join(dir, "weights.bin");
    writeFileSync(source, "weights v1");
    const checkpoint = new Checkpoint(join(dir, "a0"), "a0");
    await checkpoint.save(source);
    writeFileSync(source, "changed later");
    expect((await checkpoint.load())?.toString()).toBe("weights v1");
    expect(readdirSync(join(dir, "a0"))).toEqual(["checkpoint"]);
  });

  it("refuses what is neither bytes nor a file's path with a TypeError", async () => {
    const dir = newDir();
    const checkpoint = new Checkpoint(join(dir, "a0"), "a0");
    await expect(checkpoint.save(42 as never)).rejects.toThrow(
      /Expected the checkpoint of action `a0` to be a Buffer, a Uint8Array or the path of a file, got/,
    );
    await expect(checkpoint.save({ step: 1 } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(checkpoint.save(dir)).rejects.toThrow(/is not a regular file but a directory/);
    await expect(checkpoint.save(join(dir, "missing"))).rejects.toThrow(/cannot be read/);
    expect(await checkpoint.load()).toBeUndefined();
  });

  it("says which checkpoint could not be written when its folder cannot be made", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "run"), "a file where the run's folder should be");
    const checkpoint = new Checkpoint(join(dir, "run", "a0"), "a0");
    const failure = checkpoint.save(Buffer.from("state"));
    await expect(failure).rejects.toMatchObject({ code: "CheckpointNotSaved" });
    await expect(failure).rejects.toThrow(
      /Cannot save the checkpoint of action `a0` in .*run\/a0: .*ENOTDIR.*No earlier checkpoint exists\. Check that the run's folder is writable\./,
    );
  });

  it("never leaves a torn checkpoint when the saving process is killed with SIGKILL", async () => {
    const folder = join(newDir(), "a0");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/fixtures/checkpoints/saver.ts", folder],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    // Kill it in the middle of its third save, after two whole ones.
    await new Promise<void>((resolve) => {
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("2\n")) resolve();
      });
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const bytes = await new Checkpoint(folder, "a0").load();
    expect(bytes?.length).toBe(8 << 20);
    const first = bytes?.[0];
    expect(first).toBeGreaterThanOrEqual(2);
    expect(bytes?.every((b) => b === first)).toBe(true);
  }, 60_000);

  it.skipIf(disk === undefined)(
    "reports a full disk with the checkpoint and the free space, and keeps the previous one (needs root to mount a 1 MiB tmpfs)",
    async () => {
      const folder = join(disk as string, "a0");
      mkdirSync(folder);
      const checkpoint = new Checkpoint(folder, "a0");
      await checkpoint.save(Buffer.alloc(600 << 10, 7));
      const failure = checkpoint.save(Buffer.alloc(800 << 10, 8));
      await expect(failure).rejects.toBeInstanceOf(RuntimeSystemError);
      await expect(failure).rejects.toMatchObject({ code: "CheckpointNoSpace" });
      await expect(failure).rejects.toThrow(
        /Cannot save the checkpoint of action `a0` \(800\.0 KiB\) in .*: the disk is full \(\d+(\.\d)? (B|KiB) free\)\. The previous checkpoint \(600\.0 KiB\) is intact\./,
      );
      const kept = await checkpoint.load();
      expect(kept?.length).toBe(600 << 10);
      expect(kept?.every((b) => b === 7)).toBe(true);
      expect(readdirSync(folder)).toEqual(["checkpoint"]);
      rmSync(join(folder, "checkpoint"));
    },
  );
});
