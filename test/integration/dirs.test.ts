// A flyte.Dir input read in worker threads and worker processes: passed unchanged, and cached
// by the content under it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";
import { inProcess, inThread } from "../fixtures/dirs/tasks.js";

describe("flyte.Dir in workers", () => {
  const tasks: [string, typeof inThread][] = [
    ["thread", inThread],
    ["process", inProcess],
  ];
  for (const [runtime, read] of tasks) {
    it(`runs a cached task again only when a file under the directory changes (${runtime})`, async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-dirs-cache-"));
      const root = mkdtempSync(join(tmpdir(), "flyte-ts-dirs-data-"));
      writeFileSync(join(root, "a.txt"), "alpha");
      writeFileSync(join(root, "b.txt"), "beta");
      const data = flyte.Dir.fromLocal(root);
      const first = await flyte.withRunContext({ cacheDir }).run(read, data);
      expect(await first.outputs()).toEqual({ isDir: true, text: "a.txt=alpha;b.txt=beta" });
      expect(first.actions[0]?.cacheHit).toBe(false);
      const again = await flyte.withRunContext({ cacheDir }).run(read, data);
      expect(again.actions[0]?.cacheHit).toBe(true);
      writeFileSync(join(root, "b.txt"), "betA");
      const edited = await flyte.withRunContext({ cacheDir }).run(read, data);
      expect(edited.actions[0]?.cacheHit).toBe(false);
      expect(await edited.outputs()).toEqual({ isDir: true, text: "a.txt=alpha;b.txt=betA" });
    }, 60_000);
  }
});
