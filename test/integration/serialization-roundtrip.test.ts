// Property: whatever plain data a task returns comes back equal, through both worker runtimes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as flyte from "flyte-ts";
import { afterAll, describe, expect, it } from "vitest";
import { suites } from "../fixtures/pools/tasks.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-roundtrip-"));

afterAll(() => flyte.shutdown());

// -0 is left out: msgpack has no negative zero and msgpackr writes it as 0 (see the README).
const value = fc
  .anything({
    withMap: true,
    withSet: true,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: false,
    withObjectString: false,
    withBoxedValues: false,
    maxDepth: 3,
  })
  .filter((v) => !containsNegativeZero(v, new Set()));

function containsNegativeZero(v: unknown, seen: Set<unknown>): boolean {
  if (Object.is(v, -0)) return true;
  if (v === null || typeof v !== "object" || seen.has(v)) return false;
  seen.add(v);
  if (ArrayBuffer.isView(v)) {
    return Array.from(v as unknown as ArrayLike<number>).some((x) => Object.is(x, -0));
  }
  const items =
    v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Object.values(v);
  return items.some((item) => containsNegativeZero(item, seen));
}

describe.each(["thread", "process"] as const)("values crossing to a %s worker", (runtime) => {
  it("come back equal to what was sent", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 10 }), async (values) => {
        const run = await flyte.withRunContext({ cacheDir }).run(suites[runtime].echoWarm, values);
        expect(await run.outputs()).toEqual(values);
      }),
      { numRuns: 100 },
    );
  });
});
