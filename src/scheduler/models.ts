/**
 * Matching a requested accelerator model (flyte's short names: `"A100 80G"`, `"H100"`, `"L40s"`)
 * against the product names drivers report (`NVIDIA A100-SXM4-80GB`, `NVIDIA H100 80GB HBM3`,
 * `NVIDIA L40S`).
 * @module
 */

/** Lower-case words of a name, without vendor words: `"NVIDIA A100-SXM4-80GB"` → `["a100", "sxm4", "80gb"]`. */
function words(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "" && w !== "nvidia" && w !== "tesla" && w !== "amd" && w !== "instinct");
}

/** `"80g"`, `"80gb"` → 80; `undefined` for words that are not a memory size. */
function gigabytes(word: string): number | undefined {
  const m = /^(\d+)gb?$/.exec(word);
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether a device reported as `productName` (with `memoryBytes` of memory) is the model a task
 * asked for. Every word of the request must appear among the product's words; a memory word
 * (`"80G"`) also matches the device's memory size when the product name does not spell it.
 * `"A100"` matches every A100; `"A100 80G"` only the 80 GB ones; `"L4"` never matches an `L40S`.
 *
 * @example
 * ```ts
 * matchesModel("A100 80G", "NVIDIA A100-SXM4-80GB"); // true
 * matchesModel("A100 80G", "NVIDIA A100-SXM4-40GB"); // false
 * matchesModel("L40s", "NVIDIA L40S");               // true
 * ```
 */
export function matchesModel(
  requested: string,
  productName: string,
  memoryBytes?: number,
): boolean {
  const want = words(requested);
  if (want.length === 0) return true;
  const have = words(productName);
  return want.every((word) => {
    if (have.includes(word)) return true;
    const size = gigabytes(word);
    if (size === undefined) return false;
    if (have.some((h) => gigabytes(h) === size)) return true;
    if (have.some((h) => gigabytes(h) !== undefined) || memoryBytes === undefined) return false;
    // Reported memory is a little under the marketing size (81559 MiB for "80GB").
    const gib = memoryBytes / 2 ** 30;
    return gib <= size * 1.02 && gib >= size * 0.9;
  });
}

/** Whether a TPU chip of generation `chipType` (`"v5p"`) is what `requested` (`"V5P"`) names. */
export function matchesTpu(requested: string, chipType: string): boolean {
  const want = requested.toLowerCase().replace(/litepod$/, "e");
  return want === chipType.toLowerCase() || want === "tpu";
}
