// Builds the demo app the way a user's app is built: pack tabmux, install the tarball into
// www/, then `vite build` (the tabmux/vite plugin in www/vite.config.js emits the worker).
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "./build.mjs";
import { root, run } from "./bootstrap.mjs";

export async function buildDemo() {
  await build();
  const www = join(root, "www");
  rmSync(join(www, ".pack"), { recursive: true, force: true });
  mkdirSync(join(www, ".pack"));
  run("npm", ["pack", "--pack-destination", join(www, ".pack")]);
  // A fresh copy of the tarball every time (npm would keep a stale extracted one).
  rmSync(join(www, "node_modules", "tabmux"), { recursive: true, force: true });
  run("npm", ["install", "--no-audit", "--no-fund"], { cwd: www });
  // Worker files copied by hand before the plugin existed would shadow it: none any more.
  rmSync(join(www, "public"), { recursive: true, force: true });
  run("npx", ["--no-install", "vite", "build"], { cwd: www });
  for (const f of ["index.html", "shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"]) {
    if (!existsSync(join(www, "dist", f))) throw new Error(`the demo build made no dist/${f}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDemo();
