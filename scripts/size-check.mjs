// Checks the built files against [size_budget] in wasm-pack.toml. Sizes do not vary from
// run to run, so unlike timings they can be checked in `npm test`.
// Usage: node scripts/size-check.mjs   (after node scripts/build.mjs)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readConfig } from "./build.mjs";
import { root } from "./bootstrap.mjs";

const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(join(root, f)), { level: 9 }).length, 0);

/** What each side fetches (gzip -9 each file, summed). The page in shared mode fetches only
 * the entry and the thin client; the direct module is fetched only where direct mode runs. */
export const SIDES = {
  worker: ["dist/worker/tabmux_worker_bg.wasm", "dist/worker/tabmux_worker.js", "dist/worker/shared-websocket-worker.js"],
  tab: ["dist/tab/tabmux_tab_bg.wasm", "dist/tab/tabmux_tab.js", "dist/index.js"],
  direct: ["dist/direct/tabmux_direct_bg.wasm", "dist/direct/tabmux_direct.js"],
};

export async function checkSizes() {
  const budget = (await readConfig()).size_budget;
  let over = false;
  for (const [side, files] of Object.entries(SIDES)) {
    const size = gz(files);
    const max = budget[`${side}_gzip`];
    console.log(`size: ${side} ${size} B gzip (budget ${max} B)`);
    if (!(size <= max)) {
      console.error(`tabmux: the ${side} side is ${size - max} B over its budget in wasm-pack.toml`);
      over = true;
    }
  }
  if (over) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await checkSizes();
