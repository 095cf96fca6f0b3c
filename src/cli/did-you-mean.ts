/**
 * "Did you mean …?" for a mistyped task, flag or command: the closest known names by edit
 * distance (Damerau–Levenshtein, case-insensitive), or by a shared prefix.
 * @module
 */

function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known names close to `wanted`, closest first (at most three): within an edit distance of
 * a third of its length (at least 1, at most 3), or starting with it.
 */
export function closest(wanted: string, known: Iterable<string>): string[] {
  const w = wanted.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  const scored: [string, number][] = [];
  for (const name of new Set(known)) {
    const n = name.toLowerCase();
    const d = distance(w, n);
    if (d <= limit) scored.push([name, d]);
    else if (w.length >= 3 && n.startsWith(w)) scored.push([name, limit + 1]);
  }
  return scored
    .sort((x, y) => x[1] - y[1])
    .slice(0, 3)
    .map(([name]) => name);
}

/** `" Did you mean `--learning-rate`?"` (leading space), or `""` when nothing is close. */
export function didYouMean(wanted: string, known: Iterable<string>, prefix = ""): string {
  const names = closest(wanted, known).map((n) => `\`${prefix}${n}\``);
  if (names.length === 0) return "";
  const list =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return ` Did you mean ${list}?`;
}
