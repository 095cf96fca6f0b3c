/**
 * Writes a run's `report.html` beside its record, gathering the tabs its actions flushed and
 * the output it captured.
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { reportTabsFileName, type TabData } from "../context/report.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { readLogs } from "./logs.js";
import { renderRunReportSliced } from "./report.js";
import { reportFileName } from "./report-file.js";
import type { RunRecordData } from "./run-record.js";

export { reportFileName } from "./report-file.js";

/** Reads the `flyte.report` tabs the run's actions flushed into their folders, by action id. */
export async function readReportTabs(
  dir: string,
  run: RunRecordData,
): Promise<Record<string, TabData[]>> {
  const ids = new Set(run.actions.map((a) => a.id));
  const tabs: Record<string, TabData[]> = {};
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return tabs;
  }
  await Promise.all(
    entries
      .filter((entry) => ids.has(entry))
      .map(async (id) => {
        try {
          tabs[id] = JSON.parse(await readFile(join(dir, id, reportTabsFileName), "utf8"));
        } catch {
          // This action flushed no report.
        }
      }),
  );
  return tabs;
}

/**
 * Renders and writes `<dir>/report.html` (atomically, with known secret values masked); resolves
 * with its path.
 * @throws the write's error (ENOSPC), after removing the temporary file
 */
export async function writeRunReport(dir: string, run: RunRecordData): Promise<string> {
  await mkdir(dir, { recursive: true });
  const [tabs, logs] = await Promise.all([readReportTabs(dir, run), readLogs(dir).catch(() => [])]);
  const file = join(dir, reportFileName);
  const temporary = `${file}.${process.pid}.tmp`;
  const html = await renderRunReportSliced(knownSecrets.maskValue(run), {
    tabs: knownSecrets.maskValue(tabs),
    logs: knownSecrets.maskValue(logs),
  });
  try {
    await writeFile(temporary, html);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return file;
}
