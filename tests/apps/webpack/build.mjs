// Builds the app with plain webpack 5 (its Node API, production mode) into dist/, writes the
// page, and deploys the worker the way the README says for bundlers other than Vite:
// `tabmux copy-worker dist/`.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import webpack from "webpack";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const stats = await new Promise((resolve, reject) =>
  webpack(
    {
      mode: "production",
      context: here,
      entry: "./src/index.js",
      output: { path: dist, filename: "[name].[contenthash].js", clean: true },
      performance: { hints: false },
    },
    (err, s) => (err ? reject(err) : resolve(s)),
  ),
);
console.log(stats.toString({ colors: false, modules: false }));
if (stats.hasErrors()) process.exit(1);
const entry = stats.toJson({ all: false, entrypoints: true }).entrypoints.main.assets.map((a) => a.name);
mkdirSync(dist, { recursive: true });
writeFileSync(
  join(dist, "index.html"),
  `<!doctype html>\n<meta charset="utf-8">\n<title>tabmux webpack app</title>\n${entry.map((f) => `<script src="/${f}"></script>`).join("\n")}\n`,
);
execFileSync(process.execPath, [join(here, "node_modules", "tabmux", "bin", "tabmux.js"), "copy-worker", dist], { stdio: "inherit" });
