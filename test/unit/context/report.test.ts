import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as flyte from "flyte-ts";
import { describe, expect, it } from "vitest";

const cacheDir = mkdtempSync(join(tmpdir(), "flyte-ts-report-"));
const local = (name: string) => flyte.withRunContext({ cacheDir, name });
const env = new flyte.TaskEnvironment({ name: "reports", runtime: "inline" });

const tabs = env.task({ report: true }, async function tabs() {
  flyte.report.getTab("main").log("<p>one</p>");
  await flyte.report.log("<p>two</p>");
  const metrics = flyte.report.getTab("metrics");
  metrics.log("<p>old</p>");
  metrics.replace("<p>loss 0.1</p>");
  return flyte.ctx()?.action.name;
});

const failing = env.task({ report: true }, async function failing() {
  flyte.report.getTab("main").log("<p>never flushed</p>");
  throw new Error("fails after writing its report");
});

const manual = env.task(async function manual() {
  await flyte.report.replace("<p>flushed by hand</p>", true);
  return flyte.ctx()?.action.name;
});

const unflushed = env.task(async function unflushed() {
  flyte.report.log("<p>kept in memory only</p>");
  return flyte.ctx()?.action.name;
});

const strict = env.task(async function strict() {
  return flyte.report.getTab("missing", false);
});

describe("flyte.report", () => {
  it("flushes a report: true task's tabs into its action folder when it succeeds", async () => {
    const run = await local("tabs").run(tabs);
    const dir = join(run.url, (await run.outputs()) as string);
    expect(JSON.parse(readFileSync(join(dir, "report-tabs.json"), "utf8"))).toEqual([
      { name: "main", html: "<p>one</p>\n<p>two</p>" },
      { name: "metrics", html: "<p>loss 0.1</p>" },
    ]);
    const page = readFileSync(join(dir, "report.html"), "utf8");
    expect(page).toContain('<a href="#tab-metrics">metrics</a>');
    expect(page).toContain("<p>loss 0.1</p>");
  });

  it("does not flush a report: true task that fails", async () => {
    await expect(local("failing").run(failing)).rejects.toThrow("fails after writing its report");
    expect(existsSync(join(cacheDir, "runs", "failing", "a0", "report.html"))).toBe(false);
  });

  it("writes on flush (or doFlush) only for tasks without report: true", async () => {
    const flushed = await local("manual").run(manual);
    const dir = join(flushed.url, (await flushed.outputs()) as string);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("flushed by hand");
    const kept = await local("unflushed").run(unflushed);
    expect(existsSync(join(kept.url, (await kept.outputs()) as string, "report.html"))).toBe(false);
  });

  it("embeds each action's flushed tabs in the run report", async () => {
    const run = await local("embedded").run(tabs);
    const html = readFileSync(run.reportPath, "utf8");
    expect(html).toContain('id="report-a0"');
    expect(html).toContain("loss 0.1");
  });

  it("rejects a missing tab when createIfMissing is false", async () => {
    await expect(local("strict").run(strict)).rejects.toThrow(/has no tab "missing"/);
  });

  it("is a throw-away report outside a task: log works and flush writes nothing", async () => {
    flyte.report.getTab("outside").log("<p>x</p>");
    await expect(flyte.report.log("<p>y</p>", true)).resolves.toBeUndefined();
    expect(flyte.report.currentReport().action).toBeUndefined();
  });
});
