// Builds the demo app the way a user's app is built: pack tabmux, install the tarball into
// www/, then `vite build` (the tabmux/vite plugin in www/vite.config.js emits the worker).
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
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
  const tgz = readdirSync(join(www, ".pack")).find((f) => f.endsWith(".tgz"));
  // The demo's own dependencies exactly as www/package-lock.json pins them, then the fresh
  // tarball on top without touching package.json or the lockfile (its hash changes with every
  // build, so it is not in them).
  run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: www });
  run("npm", ["install", "--no-save", "--no-audit", "--no-fund", `./.pack/${tgz}`], { cwd: www });
  // Worker files copied by hand before the plugin existed would shadow it: none any more.
  rmSync(join(www, "public"), { recursive: true, force: true });
  run("npx", ["--no-install", "vite", "build"], { cwd: www });
  for (const f of ["index.html", "shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"]) {
    if (!existsSync(join(www, "dist", f))) throw new Error(`the demo build made no dist/${f}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDemo();
