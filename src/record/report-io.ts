/**
 * The report's view of an action's inputs and output: a collapsed block under the action's line
 * that opens to the previews (each bounded, secrets masked when recorded).
 * @module
 */
import type { ActionRecord } from "./run-record.js";

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A `<details>` block with the action's inputs and output, or `""` when it has neither. */
export function ioDetails(action: ActionRecord): string {
  const rows: string[] = [];
  for (const input of action.inputs ?? []) {
    rows.push(`<tr><th>${esc(input.name)}</th><td><code>${esc(input.preview)}</code></td></tr>`);
  }
  if (action.output !== undefined) {
    rows.push(`<tr><th>→ output</th><td><code>${esc(action.output)}</code></td></tr>`);
  }
  if (rows.length === 0) return "";
  const what = [
    action.inputs !== undefined && action.inputs.length > 0
      ? `${action.inputs.length} input${action.inputs.length === 1 ? "" : "s"}`
      : "",
    action.output !== undefined ? "output" : "",
  ]
    .filter((w) => w !== "")
    .join(" · ");
  return `<details class="io"><summary>${esc(what)}</summary><table class="io">${rows.join("")}</table></details>`;
}
