/**
 * Shared by the cache benchmarks: interleaved trials of "ours" against a floor measured in the
 * same process, reported as median [min, max] and the ratio of medians (perf-floors.md).
 */

/** Median, min and max of `xs`. */
export function summary(xs: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)] as number,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/**
 * Runs `floor` and `ours` alternately for `trials` trials; each returns one figure for its trial
 * (µs per operation, rows/s, …).
 */
export async function interleave(
  trials: number,
  floor: () => number | Promise<number>,
  ours: () => number | Promise<number>,
): Promise<{ floor: number[]; ours: number[] }> {
  const result = { floor: [] as number[], ours: [] as number[] };
  for (let t = 0; t < trials; t++) {
    result.floor.push(await floor());
    result.ours.push(await ours());
  }
  return result;
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Prints one benchmark line: ours and the floor as median [min, max], and ours / floor. */
export function report(
  id: string,
  unit: string,
  r: { floor: number[]; ours: number[] },
  target: string,
): void {
  const o = summary(r.ours);
  const f = summary(r.floor);
  console.log(
    `${id.padEnd(40)} ours ${fmt(o.median)} ${unit} [${fmt(o.min)}, ${fmt(o.max)}]   floor ${fmt(f.median)} ${unit} [${fmt(f.min)}, ${fmt(f.max)}]   ratio ${(o.median / f.median).toFixed(2)}x   target ${target}`,
  );
}

/** Microseconds per call of `fn` over `n` calls. */
export function perOpUs(n: number, fn: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / n;
}

/** Microseconds per awaited call of `fn` over `n` calls. */
export async function perOpUsAsync(
  n: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / n;
}
