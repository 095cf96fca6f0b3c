// The floor's worker: the same trivial body as bench/tasks.js `inc`.
export default function inc(x) {
  return x + 1;
}
export function echo(x) {
  return x;
}
