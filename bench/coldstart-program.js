// The coldstart engine program: one task in a fresh process, then exit on its own.
import * as flyte from "flyte-ts";
import { incFresh } from "./tasks.js";

const run = await flyte
  .withRunContext({ cacheDir: process.env.BENCH_HOME ?? ".flyte-bench" })
  .run(incFresh, 1);
if ((await run.outputs()) !== 2) process.exit(3);
