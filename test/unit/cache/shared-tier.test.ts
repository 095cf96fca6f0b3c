// The keyv shared tier, against keyv's in-memory store and a real Redis server.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import KeyvRedis from "@keyv/redis";
import * as flyte from "flyte-ts";
import { Keyv } from "keyv";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TieredCacheStore } from "../../../src/cache/shared-tier.js";
import { SqliteCacheStore } from "../../../src/cache/sqlite-cache-store.js";
import { type RedisServer, redisUnavailable, startRedis } from "../../fixtures/redis-server.js";

const newHome = () => mkdtempSync(join(tmpdir(), "flyte-ts-shared-"));

const env = new flyte.TaskEnvironment({ name: "shared", cache: "auto", runtime: "inline" });
let calls = 0;
const square = env.task(async function square(x: number) {
  calls++;
  return { x, squared: x * x, bytes: new Uint8Array([x, 0, 255]) };
});

/** Two machines sharing one keyv tier: each has its own `.flyte`. */
function sharedSuite(makeShared: () => Keyv) {
  it("serves a result computed on another machine from the shared tier", async () => {
    const shared = makeShared();
    calls = 0;
    const first = await flyte
      .withRunContext({ cacheDir: newHome(), sharedCache: shared })
      .run(square, 7);
    const other = await flyte
      .withRunContext({ cacheDir: newHome(), sharedCache: shared })
      .run(square, 7);
    expect(calls).toBe(1);
    expect(await other.outputs()).toEqual(await first.outputs());
    expect(other.actions[0]?.cacheHit).toBe(true);
  });

  it("treats a damaged shared value as a miss", async () => {
    const shared = makeShared();
    const home = newHome();
    const local = new SqliteCacheStore(home);
    const tier = new TieredCacheStore(local, shared);
    await tier.set("k", "good", "t.k");
    const stored = await shared.get("flyte-ts/v1/k");
    const bent = Buffer.from(stored as Uint8Array);
    bent.writeUInt8(bent.readUInt8(bent.length - 1) ^ 1, bent.length - 1);
    await shared.set("flyte-ts/v1/k", bent);
    const elsewhere = new TieredCacheStore(new SqliteCacheStore(newHome()), shared);
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await elsewhere.get("k")).toBeUndefined();
    write.mockRestore();
    await local.close();
  });
}

describe("shared tier on keyv's in-memory store", () => {
  sharedSuite(() => new Keyv());
});

describe("a failing shared tier", () => {
  it("is logged once and ignored: the run goes on with the local cache", async () => {
    const broken = {
      get: () => Promise.reject(new Error("connection refused")),
      set: () => Promise.reject(new Error("connection refused")),
    };
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    calls = 0;
    const home = newHome();
    await flyte.withRunContext({ cacheDir: home, sharedCache: broken }).run(square, 3);
    const again = await flyte
      .withRunContext({ cacheDir: home, sharedCache: broken })
      .run(square, 3);
    write.mockRestore();
    expect(calls).toBe(1);
    expect(await again.outputs()).toMatchObject({ squared: 9 });
    expect(lines.join("")).toMatch(/shared cache failed a (read|write).*connection refused/);
  });
});

const unavailable = redisUnavailable();
describe.skipIf(unavailable !== undefined)(
  `shared tier on Redis${unavailable ? ` (skipped: ${unavailable})` : ""}`,
  () => {
    let redis: RedisServer;
    const clients: Keyv[] = [];
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.disconnect()));
      await redis?.stop();
    });
    sharedSuite(() => {
      const keyv = new Keyv({ store: new KeyvRedis(redis.url), namespace: `t${clients.length}` });
      clients.push(keyv);
      return keyv;
    });
  },
);
