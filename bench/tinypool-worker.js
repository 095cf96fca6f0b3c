// The tinypool floor's worker: echoes its input.
export default function echo(x) {
  return x;
}
