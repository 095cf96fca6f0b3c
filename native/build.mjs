// The package's `install` step: builds the optional native addon with node-gyp. It never fails
// the install: without a compiler (or node-gyp) it prints one line and the JavaScript path serves.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (process.env.FLYTE_TS_SKIP_NATIVE) process.exit(0);
// npm runs scripts with its own node-gyp and names it in npm_config_node_gyp; run by hand, look
// for the node-gyp bundled with npm next to this node.
const bundled = join(
  dirname(process.execPath),
  "..",
  "lib",
  "node_modules",
  "npm",
  "node_modules",
  "node-gyp",
  "bin",
  "node-gyp.js",
);
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
// Use this node's own headers when they are installed, rather than downloading them.
const prefix = join(dirname(process.execPath), "..");
const nodedir =
  !process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h"))
    ? [`--nodedir=${prefix}`]
    : [];
const [command, args] = gyp
  ? [process.execPath, [gyp, "rebuild", ...nodedir]]
  : ["node-gyp", ["rebuild", ...nodedir]];
const started = Date.now();
const result = spawnSync(command, args, { cwd: here, encoding: "utf8", shell: false });
if (result.status === 0) process.exit(0);
const output = `${result.stderr ?? ""}${result.stdout ?? ""}`;
const reason =
  result.error?.message ??
  output
    .split("\n")
    .find((line) => /error:|ERR! stack Error/i.test(line))
    ?.trim() ??
  `exit status ${result.status}`;
console.log(
  `flyte-ts: native addon not built (${reason.slice(0, 160)}); CPU pinning is off and GPUs are found with nvidia-smi. (${Date.now() - started} ms)`,
);
process.exit(0);
