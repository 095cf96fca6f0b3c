// The live view on a real terminal (tmux): a tree redrawn in place, a large group collapsed to
// one line of counts, at most 10 frames a second, and the summary at the end.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { binPath, ensureBuilt, repoRoot } from "../fixtures/cli/cli-process.js";
import { hasTmux, TmuxSession } from "../fixtures/cli/tmux.js";

const tmux = await hasTmux();
if (!tmux)
  console.warn(
    "Skipping the terminal live view test: tmux is not installed (.ci/run installs it).",
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flyte-ts-tty-"));
  await ensureBuilt();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const count = (text: string, part: string) => text.split(part).length - 1;

describe("the live view on a terminal", () => {
  test.skipIf(!tmux)(
    "redraws a collapsed tree in place while the run goes, then sums it up",
    async () => {
      const gate = join(dir, "gate");
      const raw = join(dir, "raw.txt");
      await writeFile(raw, "");
      const startedAt = Date.now();
      const session = await TmuxSession.start({
        command: `FLYTE_TS_HOME='${dir}' node '${binPath}' run test/fixtures/report/gated.ts main --n 30 --gate '${gate}' --name tty`,
        cwd: repoRoot,
        columns: 100,
        rows: 20,
        pipeTo: raw,
      });
      try {
        const running = await session.waitFor((s) => s.includes("square ×30: 30 running"));
        expect(running).toMatch(/^run tty · \S+ · 0\/31 actions done\s*$/m);
        expect(running).toMatch(/^▶ main\(n=30, gate=".*"\) a0 {2}\S+\s*$/m);
        // Redrawn in place: however many frames were drawn, the screen holds one copy of the tree.
        await session.waitFor(() => true);
        expect(count(await session.screen(), "run tty ·")).toBe(1);
        await writeFile(gate, "");
        const done = await session.waitFor((s) => s.includes("EXIT="));
        const elapsedMs = Date.now() - startedAt;
        expect(done).toContain("EXIT=0");
        expect(count(done, "run tty ·")).toBe(1);
        expect(done).toMatch(/^run tty · \S+ · 31\/31 actions done\s*$/m);
        expect(done).toMatch(/^ {2}✔ square ×30: 30 done\s*$/m);
        const report = join(dir, "runs", "tty", "report.html");
        expect(done).toMatch(
          /^✔ run tty succeeded in \S+ · 31 actions: 31 done · cache-hit rate 0% · report: /m,
        );
        expect(done).toMatch(/^30\s*$/m);
        expect(existsSync(report)).toBe(true);
        // Each frame after the first starts by moving the cursor up over the previous one.
        const cursorUp = new RegExp(`\r${String.fromCharCode(27)}\\[\\d+A`, "g");
        const frames = [...(await readFile(raw, "utf8")).matchAll(cursorUp)].length + 1;
        expect(frames).toBeGreaterThan(1);
        expect(frames).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2);
      } finally {
        await session.close();
      }
    },
  );
});
