// The coldstart floor: a piscina pool, one task, exit.
import { Piscina } from "piscina";

const pool = new Piscina({
  filename: new URL("./piscina-worker.js", import.meta.url).href,
  maxThreads: 1,
});
if ((await pool.run(1)) !== 2) process.exit(3);
await pool.destroy();
