// coldstart: a whole `flyte-ts run` of a one-task program (JavaScript, and TypeScript through
// tsx) and a whole program calling run(), against a floor script (piscina pool + one task +
// exit); then an exit soak of the program counting abnormal exits (non-zero, a signal, or not
// exiting within 20 s).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { interleaved, report } from "./common.js";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const bin = here("../bin/flyte-ts.js");
const soak = Number(process.env.BENCH_SOAK ?? 1000);

/** Runs node with `args`: 0, or how it ended (an exit code, a signal, "timeout"), with its stderr. */
function run(args) {
  return new Promise((resolve) => {
    const env = { ...process.env, FLYTE_TS_HOME: process.env.BENCH_HOME ?? ".flyte-bench" };
    const started = Date.now();
    execFile(process.execPath, args, { timeout: 20_000, env }, (error, _stdout, stderr) => {
      const code = error === null ? 0 : error.killed ? "timeout" : (error.code ?? error.signal);
      resolve({ code, stderr, ms: Date.now() - started });
    });
  });
}
async function node(args) {
  return (await run(args)).code;
}
async function ok(args) {
  const code = await node(args);
  if (code !== 0) throw new Error(`${args.join(" ")} exited with ${code}`);
}

const cli = await interleaved(
  5,
  () => ok([bin, "run", here("./tasks.js"), "incFresh", "--x", "1"]),
  () => ok([here("./coldstart-floor.js")]),
);
report(
  "coldstart",
  "flyte-ts run, one task, whole process",
  cli.engineMs,
  cli.floorMs,
  "ms",
  cli.engineMs / cli.floorMs,
  "<= 1.5x floor",
);
const typescript = await interleaved(
  5,
  () => ok([bin, "run", here("./coldstart-task.ts"), "inc", "--x", "1"]),
  () => ok([here("./coldstart-floor.js")]),
);
report(
  "coldstart",
  "flyte-ts run, one task of a TypeScript program (tsx), whole process",
  typescript.engineMs,
  typescript.floorMs,
  "ms",
  typescript.engineMs / typescript.floorMs,
  "<= 1.5x floor",
);
const program = await interleaved(
  5,
  () => ok([here("./coldstart-program.js")]),
  () => ok([here("./coldstart-floor.js")]),
);
report(
  "coldstart",
  "program calling run(), one task",
  program.engineMs,
  program.floorMs,
  "ms",
  program.engineMs / program.floorMs,
  "<= 1.5x floor",
);

let abnormal = 0;
let next = 0;
const t0 = Date.now();
const lane = async () => {
  while (next < soak) {
    next++;
    const ended = await run([here("./coldstart-program.js")]);
    if (ended.code === 0) continue;
    abnormal++;
    // Each abnormal exit, so that a rare one can be told apart from the machine's load.
    console.log(
      JSON.stringify({
        id: "coldstart.soak.abnormal",
        code: ended.code,
        ms: ended.ms,
        stderr: ended.stderr.slice(-2000),
      }),
    );
  }
};
await Promise.all([lane(), lane()]);
console.log(
  JSON.stringify({
    id: "coldstart",
    what: `exit soak: ${soak} runs of the program`,
    abnormalExits: abnormal,
    seconds: (Date.now() - t0) / 1000,
    target: "0 abnormal exits",
  }),
);
