/**
 * The package's version.
 * @module
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The version of flyte-ts, from its package.json (e.g. `"0.1.0"`). */
export const version: string = (require("../package.json") as { version: string }).version;
