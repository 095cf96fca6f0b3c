/**
 * The live view for programs: `withRunContext({ progress: true })` shows a run's progress on
 * stderr as `flyte-ts run` does (the same view), and its summary when the run ends.
 * @module
 */
import { createLiveView, defaultViewMode, type LiveView } from "../record/live-view.js";

/** The view `progress` asks for, or `undefined` for none. */
export function progressView(
  progress: boolean | "tty" | "plain" | undefined,
): LiveView | undefined {
  if (progress === undefined || progress === false) return undefined;
  return createLiveView({ mode: progress === true ? defaultViewMode() : progress });
}
