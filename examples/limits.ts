// An API fan-out under limits: the provider allows 5 requests a second and 3 open connections,
// and the whole run should hold at most 4 actions at once. Waiting attempts show as "limited" in
// the live view, `flyte-ts runs show` and the report, naming the limit that holds them.
//   npx tsx examples/limits.ts
//   npx flyte-ts run --max-action-concurrency 4 examples/limits.ts forecast --cities '["Oslo","Lima"]'
import * as flyte from "flyte-ts";

export const weather = new flyte.TaskEnvironment({
  name: "weather-api",
  // The provider's quota: at most 5 requests start in any second, across every run in this process.
  rateLimit: { max: 5, per: "1s" },
  // Its connection limit: at most 3 requests in flight, across every run in this process.
  maxConcurrency: 3,
});

export const lookup = weather.task(async function lookup(city: string) {
  // Stands in for an HTTP call to a rate-limited API.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const degrees = [...city].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 30;
  return `${city}: ${degrees} °C`;
});

export const driver = new flyte.TaskEnvironment({ name: "forecast" });

export const forecast = driver.task(async function forecast(cities: string[]) {
  return Promise.all(cities.map((city) => lookup(city)));
});

export const capitals = [
  "Oslo",
  "Lima",
  "Pune",
  "Kyiv",
  "Riga",
  "Doha",
  "Baku",
  "Bern",
  "Rome",
  "Nuuk",
];

flyte.main(import.meta, async () => {
  const run = await flyte.withRunContext({ maxActionConcurrency: 4 }).run(forecast, capitals);
  for (const line of await run.outputs()) console.log(line);
});
