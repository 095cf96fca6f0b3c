// Property: whatever plain data a task returns comes back the same value (-0, holes, lone
// surrogates and shared references included), through both worker runtimes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as flyte from "flyte-ts";
import { afterAll, describe, expect, it } from "vitest";
import { suites } from "../fixtures/pools/tasks.js";
import { differenceOf } from "../fixtures/same-value.js";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-roundtrip-"));

afterAll(() => flyte.shutdown());

// Strings of any UTF-16 code units (lone surrogates too), -0, holes: all must survive exactly.
const value = fc.anything({
  withMap: true,
  withSet: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: false,
  withObjectString: false,
  withBoxedValues: false,
  stringUnit: "binary",
  maxDepth: 3,
});

describe.each(["thread", "process"] as const)("values crossing to a %s worker", (runtime) => {
  it("come back equal to what was sent", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 10 }), async (values) => {
        const run = await flyte.withRunContext({ cacheDir }).run(suites[runtime].echoWarm, values);
        expect(differenceOf(await run.outputs(), values)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });
});
