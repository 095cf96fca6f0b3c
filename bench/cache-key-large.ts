/**
 * cache.key.large: the canonical key of 1 KB, 1 MB and 64 MB inputs against plain sha256 of the
 * same bytes, and of a `flyte.File` of 1 GB (set FLYTE_BENCH_FILE_MB to change it): the first
 * key (streamed) against sha256 streamed over the same file, then a repeated key of the
 * unchanged file. Same process, interleaved.
 * Run: `node --import tsx bench/cache-key-large.ts`.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { File } from "../src/api/file.js";
import { canonicalHash } from "../src/cache/canonical.js";
import { forgetDigests } from "../src/cache/file-digest.js";
import { interleave, perOpUs, report } from "./cache-harness.js";

const throughput = (bytes: number, us: number) => bytes / us / 1_000; // GB/s

for (const [label, bytes, n] of [
  ["1 KB", 1_024, 20_000],
  ["1 MB", 1 << 20, 200],
  ["64 MB", 64 << 20, 3],
] as const) {
  const data = randomBytes(bytes);
  const r = await interleave(
    5,
    () => perOpUs(n, () => createHash("sha256").update(data).digest("hex")),
    () => perOpUs(n, () => canonicalHash([data])),
  );
  report(`cache.key.large ${label} (time per key)`, "µs", r, "<= 1.11x sha256 (>= 0.9x speed)");
  const g = summary2(r);
  console.log(
    `  throughput: ours ${throughput(bytes, g.ours).toFixed(2)} GB/s, sha256 ${throughput(bytes, g.floor).toFixed(2)} GB/s`,
  );
}

const fileMb = Number(process.env.FLYTE_BENCH_FILE_MB ?? 1024);
const dir = mkdtempSync(join(tmpdir(), "flyte-ts-bench-key-"));
const path = join(dir, "big.bin");
const chunk = randomBytes(4 << 20);
const fd = openSync(path, "w");
for (let written = 0; written < fileMb << 20; written += chunk.byteLength) writeSync(fd, chunk);
closeSync(fd);
const file = File.fromLocal(path);
const buffer = Buffer.allocUnsafe(4 << 20);
const streamedSha256 = () => {
  const start = process.hrtime.bigint();
  const hash = createHash("sha256");
  const f = openSync(path, "r");
  for (;;) {
    const got = readSync(f, buffer, 0, buffer.byteLength, null);
    if (got === 0) break;
    hash.update(buffer.subarray(0, got));
  }
  closeSync(f);
  hash.digest();
  return Number(process.hrtime.bigint() - start) / 1_000;
};
const first = await interleave(3, streamedSha256, () => {
  forgetDigests();
  return perOpUs(1, () => canonicalHash([file]));
});
report(`cache.key.large ${fileMb} MB file, first`, "µs", first, ">= 0.9x sha256 speed");
const repeat = await interleave(3, streamedSha256, () =>
  perOpUs(1_000, () => canonicalHash([file])),
);
report(`cache.key.large ${fileMb} MB file, repeat`, "µs", repeat, "~0");
rmSync(dir, { recursive: true, force: true });

function summary2(r: { floor: number[]; ours: number[] }) {
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { ours: median(r.ours), floor: median(r.floor) };
}
