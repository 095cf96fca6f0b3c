// The run report in a real browser (Debian's chromium through playwright-core): it loads with no
// console errors, draws one bar per attempt, and shows the tree, errors and task report tabs.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../fixtures/report/tasks.js";

const executablePath = "/usr/bin/chromium";
const hasChromium = existsSync(executablePath);
if (!hasChromium) {
  console.warn(
    `Skipping the report browser test: ${executablePath} is missing (.ci/run installs chromium).`,
  );
}

let dir: string;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flyte-ts-browser-"));
  if (!hasChromium) return;
  browser = await chromium.launchPersistentContext(join(dir, "user-data"), {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the run report in a browser", () => {
  test.skipIf(!hasChromium)(
    "loads with no console errors and draws one bar per attempt",
    async () => {
      const run = await flyte
        .withRunContext({ cacheDir: dir, name: "browser", echoLogs: false })
        .run(main, 8);
      const record = { actions: run.actions };
      const attempts = record.actions.flatMap((a) => a.attempts.map((t) => `${a.id}#${t.attempt}`));
      const page = await browser!.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (error) => problems.push(String(error)));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:") && !r.url().startsWith("about:"))
          problems.push(`fetched ${r.url()}`);
      });
      await page.goto(`file://${run.reportPath}`);
      const bars = await page
        .locator(".bar[data-attempt]")
        .evaluateAll((els) =>
          els.map((e) => `${e.getAttribute("data-action")}#${e.getAttribute("data-attempt")}`),
        );
      expect(bars.sort()).toEqual(attempts.sort());
      expect(await page.locator(".track .bar.retry").count()).toBe(2);
      // Tooltips are written by the page: how long each bar waited and ran, and where.
      const retried = await page.locator(".track .bar.retry").first().getAttribute("title");
      expect(retried).toMatch(/attempt [12]: \w+\nwaited \d+ms, ran \d+(ms|\.\ds)\non \S+/);
      expect(await page.locator(".track .hit").count()).toBe(1);
      await expect(page.locator("#errors h2").textContent()).resolves.toBe("Errors (3)");
      await expect(page.locator("#actions").textContent()).resolves.toContain("group squares ×8");
      // The table tab shows when its button is clicked.
      await page.locator(".tab-button", { hasText: "table" }).click();
      const frame = page.frameLocator(".tab-frame.active");
      await expect(frame.locator("td").last().textContent()).resolves.toBe("8");
      await page.screenshot({ path: join(run.url, "report.png"), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});
