/**
 * Finds a task by (module URL, task name) in a process that did not define it: a worker, or the
 * `flyte-ts execute` entrypoint. Importing the module re-runs its `env.task` calls, which
 * register the tasks.
 * @module
 */
import { register as registerHooks } from "node:module";
import { fileURLToPath } from "node:url";
import type { AnyTask, TaskTemplate } from "../api/task.js";
import { lookupTask } from "../api/task-environment.js";
import { applyOverrides, type TaskRef } from "../api/task-ref.js";
import { NonRecoverableError } from "../errors.js";
import { importModule } from "../internal/import-module.js";
import { inWorker, runStartedDuringImportCode } from "../internal/worker-flag.js";
import type { EngineModules } from "./engine-hooks.js";
import { compileTypeScript } from "./typescript-import.js";

let typeScriptLoader: Promise<void> | undefined;

/** Test files by name (`*.test.ts`, `*.spec.mjs`, …): a worker may import one for its top-level tasks. */
const testFile = /\.(test|spec)\.[cm]?[jt]sx?$/;

/** Sets vitest's globals (stubs) in a worker, for test files written with `globals: true`. */
async function defineTestGlobals(): Promise<void> {
  if (!inWorker()) return;
  const { testGlobals } = await import("./vitest-stub.js");
  const scope = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(testGlobals)) scope[name] ??= value;
}

/**
 * Registers tsx's ESM loader once (in workers, the CLI and `flyte-ts execute`), so TypeScript modules can be imported, and pins `flyte-ts`
 * to this very engine: tsx would otherwise follow a tsconfig `paths` entry to another copy (a
 * `src/` tree), whose error classes would not match the errors this worker rebuilds.
 */
export function ensureTypeScriptLoader(): Promise<void> {
  if (typeScriptLoader !== undefined) return typeScriptLoader;
  const engine = new URL("../index.js", import.meta.url).href;
  // Once the loader is registered every import goes through Node's loader thread, one round trip
  // per module: the engine's own modules, which the user's module imports, are loaded first.
  // (From src/, as under vitest, there is no index.js beside this file: nothing to load first.)
  const first = importModule(engine).catch(() => undefined);
  typeScriptLoader = Promise.all([
    importModule<typeof import("tsx/esm/api")>("tsx/esm/api"),
    first,
  ]).then(([{ register }]) => {
    register();
    // Hooks run last-registered first, so these see "flyte-ts" before tsx does.
    const data: EngineModules = {
      "flyte-ts": engine,
      "flyte-ts/testing": new URL("../testing.js", import.meta.url).href,
      // A worker importing a vitest file for its top-level tasks must not run its tests.
      ...(inWorker() ? { vitest: new URL("./vitest-stub.js", import.meta.url).href } : {}),
    };
    registerHooks(new URL("./engine-hooks.js", import.meta.url), { data });
  });
  return typeScriptLoader;
}

/**
 * Imports of task modules started here, by module URL. A module registers its tasks as it runs,
 * so one that failed later in its top level (say, it started a run) has registered tasks that
 * must not be taken: a task of a module being imported here is the import's outcome.
 */
const moduleImports = new Map<string, Promise<unknown>>();

/** The task `name` of `moduleUrl` if this process defined it without importing it for a task. */
function definedHere(name: string, moduleUrl: string | undefined): AnyTask | undefined {
  return moduleUrl !== undefined && moduleImports.has(moduleUrl)
    ? undefined
    : lookupTask(name, moduleUrl);
}

/** Imports a task module: TypeScript as its compiled copy, or through tsx. */
async function importTaskModule(moduleUrl: string): Promise<unknown> {
  const path = new URL(moduleUrl).pathname;
  let url = moduleUrl;
  if (testFile.test(path)) {
    await ensureTypeScriptLoader();
    await defineTestGlobals();
  } else if (/\.[cm]?tsx?$/.test(path)) {
    const compiled = await compileTypeScript(fileURLToPath(moduleUrl));
    if (compiled === undefined) await ensureTypeScriptLoader();
    else url = compiled;
  }
  return importModule(url);
}

/**
 * Imports `moduleUrl` and returns its task named `taskName`.
 * @throws NonRecoverableError when the module cannot be imported or has no such task at its top level.
 */
export async function loadTask(moduleUrl: string, taskName: string): Promise<AnyTask> {
  let importing = moduleImports.get(moduleUrl);
  if (importing === undefined) {
    const known = lookupTask(taskName, moduleUrl);
    if (known !== undefined) return known;
    importing = importTaskModule(moduleUrl);
    moduleImports.set(moduleUrl, importing);
  }
  const path = new URL(moduleUrl).pathname;
  const advice =
    "Tasks must be defined at the top level of a module (not inside a function or a test) to run in a worker; " +
    'define it there, or give its environment `runtime: "inline"`.';
  try {
    await importing;
  } catch (error) {
    if ((error as { code?: unknown } | undefined)?.code === runStartedDuringImportCode) {
      throw new NonRecoverableError(
        `Task \`${taskName}\` could not be loaded in a worker: importing ${moduleUrl} started a run. ${(error as Error).message}`,
        { code: runStartedDuringImportCode, cause: error },
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (testFile.test(path)) {
      throw new NonRecoverableError(
        `Task \`${taskName}\` could not be loaded in a worker: importing the test file ${moduleUrl} failed (${reason}). ` +
          "Workers import a test file with vitest's functions stubbed out; this one does more at its top level. " +
          'Define the tasks in their own module (e.g. `tasks.ts`) and import them into the test, or give their environment `runtime: "inline"`.',
        { code: "TaskNotFoundError", cause: error },
      );
    }
    throw new NonRecoverableError(
      `Task \`${taskName}\` could not be loaded in a worker: importing ${moduleUrl} failed (${reason}). ${advice}`,
      { code: "TaskNotFoundError", cause: error },
    );
  }
  const task = lookupTask(taskName, moduleUrl);
  if (task === undefined) {
    throw new NonRecoverableError(
      `Task \`${taskName}\` was not found after importing ${moduleUrl}. ${advice}`,
      { code: "TaskNotFoundError" },
    );
  }
  return task;
}

/**
 * The template a call names: its task by (module, name), loaded here if this process has not
 * imported the module, then the override the call carries.
 */
export function resolveTask(ref: TaskRef): TaskTemplate | Promise<TaskTemplate> {
  const apply = (task: AnyTask): TaskTemplate =>
    ref.overrides === undefined ? task : applyOverrides(task, ref.overrides);
  const known = definedHere(ref.name, ref.module);
  if (known !== undefined) return apply(known);
  if (ref.module === undefined) {
    return Promise.reject(
      new NonRecoverableError(
        `Task \`${ref.name}\` is not defined in the controller's process, and its module is not known.`,
        { code: "TaskNotFoundError" },
      ),
    );
  }
  return loadTask(ref.module, ref.name).then(apply);
}
