// Builds the wasm packages as wasm-pack.toml says, then copies the worker script beside
// the worker's glue. Prints each file's size, raw and gzip.
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { ensureToolchain, root, run } from "./bootstrap.mjs";

export async function readConfig() {
  const { parse } = await import("smol-toml");
  return parse(readFileSync(join(root, "wasm-pack.toml"), "utf8"));
}

export function sizes(files) {
  return files.map((f) => {
    const buf = readFileSync(f);
    return { file: f.slice(root.length + 1), raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length };
  });
}

export async function build() {
  ensureToolchain();
  const cfg = await readConfig();
  const profile = cfg.build?.profile === "dev" ? "--dev" : "--release";
  const outputs = [];
  for (const c of cfg.crate) {
    const outDir = join(root, c.out_dir);
    run("wasm-pack", ["build", c.path, "--target", c.target, "--out-dir", outDir, "--out-name", c.out_name, profile, "--no-opt", "--no-pack"]);
    // wasm-pack leaves a `*` .gitignore in its output, which would keep the files out of `npm pack`.
    rmSync(join(outDir, ".gitignore"), { force: true });
    const wasm = join(outDir, `${c.out_name}_bg.wasm`);
    if (cfg.wasm_opt?.enabled) run("wasm-opt", [...cfg.wasm_opt.flags, wasm, "-o", wasm]);
    outputs.push(wasm, join(outDir, `${c.out_name}.js`));
  }
  const worker = cfg.crate.find((c) => c.name === "worker");
  const script = join(root, worker.out_dir, "shared-websocket-worker.js");
  copyFileSync(join(root, "worker", "shared-websocket-worker.js"), script);
  outputs.push(script);
  console.table(sizes(outputs));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
