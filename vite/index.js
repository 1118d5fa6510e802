// tabmux/vite: the Vite plugin. One line in vite.config.js (`plugins: [tabmux()]`) and the
// worker needs no copy step: in `vite` (dev) the three worker files are served from this
// package at the site's base (`/shared-websocket-worker.js` by default), in `vite build` they
// are emitted at the root of the output folder, and tabmux is kept out of dependency
// pre-bundling, so its `new URL("….wasm", import.meta.url)` keeps pointing at its own files.
// The files come from the installed package, so an upgrade of tabmux upgrades the worker.
import { readFileSync } from "node:fs";

const TYPES = {
  "shared-websocket-worker.js": "text/javascript",
  "tabmux_worker.js": "text/javascript",
  "tabmux_worker_bg.wasm": "application/wasm",
};
const read = (name) => readFileSync(new URL(`../dist/worker/${name}`, import.meta.url));

/** @returns {import("vite").Plugin} */
export default function tabmux() {
  let base = "/";
  return {
    name: "tabmux",
    config: () => ({ optimizeDeps: { exclude: ["tabmux"] } }),
    configResolved(config) {
      base = config.base.startsWith("/") ? config.base : "/";
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? "").split("?")[0];
        const name = path.startsWith(base) ? path.slice(base.length) : "";
        if (!Object.hasOwn(TYPES, name)) return next();
        res.setHeader("Content-Type", TYPES[name]);
        res.setHeader("Cache-Control", "no-cache");
        res.end(read(name));
      });
    },
    generateBundle() {
      for (const name of Object.keys(TYPES)) this.emitFile({ type: "asset", fileName: name, source: read(name) });
    },
  };
}
