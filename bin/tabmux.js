#!/usr/bin/env node
// `npx tabmux copy-worker <folder>`: puts the worker script and its wasm where the site
// serves them (by default the page loads /shared-websocket-worker.js).
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"];
const from = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "worker");
const [command, target] = process.argv.slice(2);

if (command !== "copy-worker" || !target) {
  console.error("usage: tabmux copy-worker <folder>   (e.g. public/)");
  process.exit(2);
}
const missing = FILES.filter((f) => !existsSync(join(from, f)));
if (missing.length) {
  console.error(`tabmux: ${missing.join(", ")} missing from ${from} (in a checkout, run npm run build first)`);
  process.exit(1);
}
const to = resolve(target);
mkdirSync(to, { recursive: true });
for (const f of FILES) copyFileSync(join(from, f), join(to, f));
console.log(`tabmux: copied ${FILES.join(", ")} to ${to}`);
