/**
 * Reports: a task that writes HTML tabs with `flyte.report` while it trains, flushed into its
 * action folder because it is defined with `report: true`; the run's own report.html embeds the
 * tabs beside the timeline. What the task prints is captured too (`flyte-ts runs logs <run>`).
 *
 *   npx flyte-ts run examples/report.ts train --epochs 5     # prints the final loss
 *   npx tsx examples/report.ts                               # the same, then where the report is
 */
import * as flyte from "flyte-ts";

export const env = new flyte.TaskEnvironment({ name: "report-demo" });

export const train = env.task(
  { report: true },
  async function train(epochs: number = 5): Promise<number> {
    const losses: number[] = [];
    const curve = flyte.report.getTab("loss");
    for (let epoch = 0; epoch < epochs; epoch++) {
      const loss = Number((1 / (epoch + 1)).toFixed(3));
      losses.push(loss);
      console.log(`epoch ${epoch}: loss ${loss}`);
      curve.log(`<li>epoch ${epoch}: ${loss}</li>`);
    }
    const bars = losses
      .map(
        (l, i) =>
          `<rect x="${i * 22}" y="${100 - l * 100}" width="18" height="${l * 100}" fill="#2e9d57"/>`,
      )
      .join("");
    await flyte.report.replace(
      `<h1>Training</h1><p>${epochs} epochs</p><svg width="${epochs * 22}" height="100">${bars}</svg>`,
    );
    return losses.at(-1) ?? 0;
  },
);

flyte.main(import.meta, async () => {
  const run = await flyte.run(train, 5);
  console.log(await run.outputs());
  console.log(`report: ${run.reportPath}`);
});
