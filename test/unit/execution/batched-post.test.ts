import { describe, expect, it } from "vitest";
import { alwaysClones, type Batch, BatchedPost } from "../../../src/execution/batched-post.js";

type M = { readonly n: number };

function sender() {
  const sent: (M | Batch<M>)[] = [];
  const turnEnds: (() => void)[] = [];
  const post = new BatchedPost<M>({
    send: (message) => sent.push(message),
    atTurnEnd: (flush) => turnEnds.push(flush),
  });
  const endTurn = () => {
    for (const flush of turnEnds.splice(0)) flush();
  };
  return { post, sent, endTurn };
}

describe("BatchedPost", () => {
  it("sends a turn's first message at once and the rest as one batch at the turn's end", () => {
    const { post, sent, endTurn } = sender();
    post.post({ n: 1 }, true);
    expect(sent).toEqual([{ n: 1 }]);
    post.post({ n: 2 }, true);
    post.post({ n: 3 }, true);
    expect(sent).toHaveLength(1);
    endTurn();
    expect(sent).toEqual([{ n: 1 }, { t: "batch", messages: [{ n: 2 }, { n: 3 }] }]);
    // A new turn starts with a message sent at once again.
    post.post({ n: 4 }, true);
    expect(sent.at(-1)).toEqual({ n: 4 });
    post.post({ n: 5 }, true);
    endTurn();
    expect(sent.at(-1)).toEqual({ n: 5 });
  });

  it("sends an unsafe message at once, after the queued ones, so its sender sees a failure", () => {
    const { post, sent, endTurn } = sender();
    post.post({ n: 1 }, true);
    post.post({ n: 2 }, true);
    post.post({ n: 3 }, false);
    expect(sent).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    endTurn();
    expect(sent).toHaveLength(3);
  });
});

describe("alwaysClones", () => {
  it("accepts primitives, bytes and small plain structures of them", () => {
    for (const value of [
      1,
      "s",
      true,
      null,
      undefined,
      2n,
      new Uint8Array(8),
      [1, "a"],
      { args: [1, 2], traces: [] },
    ]) {
      expect(alwaysClones(value)).toBe(true);
    }
  });

  it("refuses what it does not look into: instances, getters, functions, large or deep values", () => {
    const getter = Object.defineProperty({}, "x", { get: () => 1, enumerable: true });
    for (const value of [
      new Map(),
      new (class A {})(),
      getter,
      () => 1,
      Symbol("s"),
      Array.from({ length: 17 }, () => 0),
      { a: { b: { c: 1 } } },
    ]) {
      expect(alwaysClones(value)).toBe(false);
    }
  });
});
