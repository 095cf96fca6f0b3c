// Shared helpers: timing, interleaved trials and the result table.
import { performance } from "node:perf_hooks";

/** Milliseconds `fn` takes. */
export async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs `engine` and `floor` alternately `trials` times and returns their median times in ms.
 */
export async function interleaved(trials, engine, floor) {
  const e = [];
  const f = [];
  for (let i = 0; i < trials; i++) {
    f.push(await time(floor));
    e.push(await time(engine));
  }
  return { engineMs: median(e), floorMs: median(f), engineAll: e, floorAll: f };
}

/** Prints one result line: id, engine figure, floor figure, ratio, target. */
export function report(id, what, engine, floor, unit, ratio, target) {
  const row = {
    id,
    what,
    engine: `${fmt(engine)} ${unit}`,
    floor: `${fmt(floor)} ${unit}`,
    ratio: `${ratio.toFixed(2)}x`,
    target,
  };
  console.log(JSON.stringify(row));
}

function fmt(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
