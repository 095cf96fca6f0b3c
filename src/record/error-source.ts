/**
 * Where a failure started. A child's error reaches its parent unchanged, so the same message
 * would be shown once per level of the tree (and again per failed attempt); the live view shows
 * it once, on the action where it started, and points the others there.
 * @module
 */
import type { ProgressAction } from "./progress.js";

/** The deepest descendant of `action` that failed with the same message, if any. */
export function errorSource(action: ProgressAction): ProgressAction | undefined {
  const message = action.error?.message;
  if (message === undefined) return undefined;
  for (const child of action.children) {
    if (child.error?.message === message) return errorSource(child) ?? child;
  }
  return undefined;
}

/**
 * What to show of `action`'s error: its first line where it started, `"error from <task> <id>"`
 * where it only passed through, nothing for a cancelled action (the run says why).
 */
export function errorText(
  action: ProgressAction,
  shortTask: (task: string) => string,
): string | undefined {
  if (action.error === undefined || action.state === "cancelled") return undefined;
  if (action.error.name === "RunCancelledError") return undefined;
  const source = errorSource(action);
  if (source !== undefined)
    return `error from ${source.label ?? shortTask(source.task)} ${source.id}`;
  return action.error.message.split("\n")[0] ?? "";
}
