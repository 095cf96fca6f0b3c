/**
 * `flyte.report`: HTML tabs a task writes while it runs, flushed into its action folder as
 * `report.html` (and `report-tabs.json`, which the run report embeds).
 * @module
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidConfigError } from "../errors.js";
import { knownSecrets } from "../internal/secret-mask.js";
import { warnOnce } from "../internal/warn.js";
import { currentFrame } from "./context.js";

/** The name of the tab that every report has. */
export const mainTabName = "main";

/** The file, inside an action's folder, that holds its tabs as `[{ name, html }]`. */
export const reportTabsFileName = "report-tabs.json";

/** One tab's content as stored and as the run report shows it. */
export interface TabData {
  readonly name: string;
  readonly html: string;
}

/**
 * One tab of a task's report: HTML fragments, appended with `log` or replaced with `replace`.
 *
 * @example
 * ```ts
 * flyte.report.getTab("metrics").log(`<p>loss: ${loss}</p>`);
 * ```
 */
export class Tab {
  /** The tab's name, shown in the report's navigation. */
  readonly name: string;
  #parts: string[] = [];

  /** @internal */
  constructor(name: string) {
    this.name = name;
  }

  /** Appends an HTML fragment to the tab. */
  log(html: string): void {
    this.#parts.push(String(html));
  }

  /** Replaces the tab's whole content with `html`. */
  replace(html: string): void {
    this.#parts = [String(html)];
  }

  /** The tab's HTML so far. */
  get html(): string {
    return this.#parts.join("\n");
  }
}

/**
 * The report of one attempt of an action: its tabs, in creation order; `main` always exists.
 *
 * @example
 * ```ts
 * const report = flyte.report.currentReport();
 * report.getTab("samples").log("<p>42</p>");
 * await report.flush();
 * ```
 */
export class Report {
  /** The action the report belongs to (`undefined` for the throw-away report outside a task). */
  readonly action: string | undefined;
  readonly #dir: string | undefined;
  // Made at first use: most attempts never touch their report.
  #tabMap: Map<string, Tab> | undefined;

  /** @internal `dir` is the action's folder; without one, `flush` writes nothing. */
  constructor(action?: string, dir?: string) {
    this.action = action;
    this.#dir = dir;
  }

  get #tabs(): Map<string, Tab> {
    this.#tabMap ??= new Map([[mainTabName, new Tab(mainTabName)]]);
    return this.#tabMap;
  }

  /** The tab called `name`, created when missing unless `createIfMissing` is false. */
  getTab(name: string, createIfMissing = true): Tab {
    const existing = this.#tabs.get(name);
    if (existing !== undefined) return existing;
    if (!createIfMissing) {
      throw new InvalidConfigError("report", [
        {
          path: `tab ${name}`,
          message: `The report has no tab "${name}". Call getTab("${name}") without \`createIfMissing: false\` to create it.`,
        },
      ]);
    }
    const tab = new Tab(name);
    this.#tabs.set(name, tab);
    return tab;
  }

  /** The tabs as plain data, in creation order. */
  toJSON(): TabData[] {
    return [...this.#tabs.values()].map((tab) => ({ name: tab.name, html: tab.html }));
  }

  /**
   * Writes `report.html` (a page with one section per tab) and `report-tabs.json` into the
   * action's folder, with known secret values masked. Does nothing outside a task. A report that
   * cannot be written (a full disk) is a warning, never the task's failure.
   */
  async flush(): Promise<void> {
    if (this.#dir === undefined) return;
    const tabs = knownSecrets.maskValue(this.toJSON());
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeAtomically(join(this.#dir, reportTabsFileName), JSON.stringify(tabs));
      await writeAtomically(
        join(this.#dir, "report.html"),
        renderTabsPage(this.action ?? "", tabs),
      );
    } catch (error) {
      warnOnce(
        `The report of action ${this.action ?? "?"} could not be written to ${this.#dir} (${error instanceof Error ? error.message : String(error)}); the task goes on without it.`,
      );
    }
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A task's own report page: a list of tab names, then one section per tab. */
export function renderTabsPage(title: string, tabs: readonly TabData[]): string {
  const nav = tabs.map(
    (t) => `<li><a href="#tab-${escapeHtml(t.name)}">${escapeHtml(t.name)}</a></li>`,
  );
  const sections = tabs.map(
    (t) =>
      `<section id="tab-${escapeHtml(t.name)}"><h2>${escapeHtml(t.name)}</h2>\n${t.html}\n</section>`,
  );
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)} report</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}nav ul{display:flex;gap:1rem;list-style:none;padding:0}section{border-top:1px solid #ddd;padding-top:1rem}</style>
</head><body><nav><ul>${nav.join("")}</ul></nav>
${sections.join("\n")}
</body></html>
`;
}

// Outside a task, upstream hands out a throw-away report whose flush does nothing.
const outsideTask = new Report();

/**
 * The report of the task running now; outside a task, a throw-away report.
 *
 * @example
 * ```ts
 * console.log(flyte.report.currentReport().action); // "a0" in the root task, undefined outside
 * ```
 */
export function currentReport(): Report {
  const report = currentFrame()?.report;
  if (report !== undefined) return report;
  return outsideTask;
}

/**
 * The current task's tab called `name`, created when missing unless `createIfMissing` is false
 * (then a missing tab is an `InvalidConfigError`).
 *
 * @example
 * ```ts
 * const tab = flyte.report.getTab("samples");
 * tab.replace(`<img src="data:image/png;base64,${png}">`);
 * ```
 */
export function getTab(name: string, createIfMissing = true): Tab {
  return currentReport().getTab(name, createIfMissing);
}

/**
 * Appends `html` to the current task's `main` tab; writes the report at once when `doFlush`.
 *
 * @example
 * ```ts
 * await flyte.report.log("<h1>Training</h1>", true);
 * ```
 */
export function log(html: string, doFlush = false): Promise<void> {
  currentReport().getTab(mainTabName).log(html);
  return doFlush ? flush() : Promise.resolve();
}

/**
 * Replaces the current task's `main` tab with `html`; writes the report at once when `doFlush`.
 *
 * @example
 * ```ts
 * await flyte.report.replace(`<h1>Epoch ${epoch}</h1>`);
 * ```
 */
export function replace(html: string, doFlush = false): Promise<void> {
  currentReport().getTab(mainTabName).replace(html);
  return doFlush ? flush() : Promise.resolve();
}

/**
 * Writes the current task's report into its action folder (`report.html`); a no-op outside a
 * task. Tasks defined with `report: true` are flushed automatically when they succeed.
 *
 * @example
 * ```ts
 * flyte.report.getTab("progress").replace(`<p>${done}/${total}</p>`);
 * await flyte.report.flush();
 * ```
 */
export function flush(): Promise<void> {
  return currentReport().flush();
}
