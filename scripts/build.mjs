// Builds the wasm packages as wasm-pack.toml says, then copies the worker script beside
// the worker's glue, stamped with the build id (see stamp()). Prints each file's size, raw
// and gzip.
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** wasm-opt's flags from wasm-pack.toml; with TABMUX_WASM_NAMES=1 (profiles, twiggy) the
 *  function names stay in the wasm (no --strip-debug, and -g). Never for what ships. */
function optFlags(cfg) {
  const flags = cfg.wasm_opt.flags;
  return process.env.TABMUX_WASM_NAMES === "1" ? [...flags.filter((f) => f !== "--strip-debug"), "-g"] : flags;
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
    if (cfg.wasm_opt?.enabled) run("wasm-opt", [...optFlags(cfg), wasm, "-o", wasm]);
    outputs.push(wasm, join(outDir, `${c.out_name}.js`));
  }
  const dir = (name) => join(root, cfg.crate.find((c) => c.name === name).out_dir);
  const id = stamp({ workerDir: dir("worker"), tabDir: dir("tab"), shim: readFileSync(join(root, "worker", "shared-websocket-worker.js"), "utf8") });
  outputs.push(join(dir("worker"), "shared-websocket-worker.js"), join(dir("tab"), "build-id.js"));
  console.table(sizes(outputs));
  console.log(`build id ${id}`);
}

/**
 * The test worker ([test_worker] in wasm-pack.toml): the worker crate with its test-only
 * hooks (cargo feature `test-hooks`) into its own folder, never packed. Its shim carries the
 * build id of the shipped build in dist/ (run build() first), so pages of that build say
 * hello to it as to their own worker.
 */
export async function buildTestWorker() {
  ensureToolchain();
  const cfg = await readConfig();
  const t = cfg.test_worker;
  const c = cfg.crate.find((c) => c.name === t.crate);
  const outDir = join(root, t.out_dir);
  const profile = t.profile === "dev" ? "--dev" : "--release";
  run("wasm-pack", ["build", c.path, "--target", c.target, "--out-dir", outDir, "--out-name", c.out_name, profile, "--no-opt", "--no-pack", "--", "--features", t.features.join(",")]);
  rmSync(join(outDir, ".gitignore"), { force: true });
  const shipped = join(root, c.out_dir, "shared-websocket-worker.js");
  const id = readFileSync(shipped, "utf8").match(BUILD_LINE)?.[1];
  if (!id) throw new Error(`${shipped} has no build id: run the build (node scripts/build.mjs) first`);
  copyFileSync(shipped, join(outDir, "shared-websocket-worker.js"));
  console.log(`test worker (${t.features.join(", ")}, ${t.profile}) in ${t.out_dir}, build id ${id}`);
}

const BUILD_LINE = /^const BUILD = "([^"]*)";$/m;

/**
 * The build id: the first 16 hex digits of a SHA-256 over the worker's wasm, its glue and
 * its shim (with the id line blank), so any change to what the worker runs gives a new id.
 * Written into the shim (`workerDir/shared-websocket-worker.js`, from `shim`, the source or
 * an already stamped copy) and into `tabDir/build-id.js`, the module js/index.js imports:
 * a page names the worker after its id and says it in its hello, so two releases never share
 * a worker. Returns the id.
 */
export function stamp({ workerDir, tabDir, shim }) {
  if (!BUILD_LINE.test(shim)) throw new Error('the worker shim has no `const BUILD = "…";` line to stamp');
  const template = shim.replace(BUILD_LINE, 'const BUILD = "dev";');
  const hash = createHash("sha256");
  for (const f of ["tabmux_worker_bg.wasm", "tabmux_worker.js"]) hash.update(readFileSync(join(workerDir, f)));
  const id = hash.update(template).digest("hex").slice(0, 16);
  writeFileSync(join(workerDir, "shared-websocket-worker.js"), template.replace(BUILD_LINE, `const BUILD = "${id}";`));
  writeFileSync(
    join(tabDir, "build-id.js"),
    `// tabmux build id (scripts/build.mjs): names the SharedWorker of this release.\nexport default "${id}";\n`,
  );
  return id;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build();
  // `--no-test-worker`: the shipped files only.
  if (!process.argv.includes("--no-test-worker")) await buildTestWorker();
}
