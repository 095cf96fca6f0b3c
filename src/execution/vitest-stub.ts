/**
 * What `import … from "vitest"` gives a worker that imports a vitest test file for the tasks
 * defined at its top level: every value vitest exports, as a callable that accepts and ignores
 * anything (`describe(...)`, `test.each(...)(...)`, `expect(x).toBe(y)`, `vi.fn()`), so that
 * importing the file defines its tasks and runs no test. Tests run only in the vitest process.
 * @module
 */

/** Absorbs every call, property read and `new`, returning itself. */
const ignored: (...args: unknown[]) => unknown = new Proxy(() => {}, {
  get: (_target, key) => (key === "then" ? undefined : ignored),
  apply: () => ignored,
  construct: () => ignored as object,
});

export const afterAll = ignored;
export const afterEach = ignored;
export const aroundAll = ignored;
export const aroundEach = ignored;
export const assert = ignored;
export const assertType = ignored;
export const beforeAll = ignored;
export const beforeEach = ignored;
export const bench = ignored;
export const chai = ignored;
export const createExpect = ignored;
export const describe = ignored;
export const expect = ignored;
export const expectTypeOf = ignored;
export const inject = ignored;
export const it = ignored;
export const onTestFailed = ignored;
export const onTestFinished = ignored;
export const recordArtifact = ignored;
export const should = ignored;
export const suite = ignored;
export const test = ignored;
export const vi = ignored;
export const vitest = ignored;

/** The globals vitest sets with `globals: true`, for test files that use them unimported. */
export const testGlobals: Readonly<Record<string, unknown>> = {
  afterAll,
  afterEach,
  assert,
  beforeAll,
  beforeEach,
  bench,
  chai,
  describe,
  expect,
  expectTypeOf,
  it,
  onTestFailed,
  onTestFinished,
  suite,
  test,
  vi,
  vitest,
};
