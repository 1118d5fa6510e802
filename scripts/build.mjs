// Builds the wasm packages as wasm-pack.toml says, then copies the worker script beside
// the worker's glue, stamped with the build id (see stamp()). Prints each file's size, raw
// and gzip.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { ensureLeanStd, ensureToolchain, env, root, run } from "./bootstrap.mjs";

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

/**
 * Options for run() that build a crate with lean std ([lean_std] in wasm-pack.toml): the
 * pinned nightly, std rebuilt with panics as bare traps, and a target dir of its own (so the
 * stable builds' cache is not invalidated by the other toolchain and flags).
 */
export function leanStdOptions(cfg) {
  const l = cfg.lean_std;
  return {
    env: {
      ...env,
      RUSTUP_TOOLCHAIN: l.toolchain,
      CARGO_TARGET_DIR: join(root, l.target_dir),
      CARGO_UNSTABLE_BUILD_STD: "std,panic_abort",
      RUSTFLAGS: "-Zunstable-options -Cpanic=immediate-abort",
    },
  };
}

export async function build() {
  ensureToolchain();
  const cfg = await readConfig();
  if (cfg.crate.some((c) => c.lean_std)) ensureLeanStd(cfg.lean_std.toolchain);
  const profile = cfg.build?.profile === "dev" ? "--dev" : "--release";
  const outputs = [];
  for (const c of cfg.crate) {
    const outDir = join(root, c.out_dir);
    const opts = c.lean_std ? leanStdOptions(cfg) : {};
    if (c.lean_std) console.log(`(${c.name}: lean std, ${cfg.lean_std.toolchain})`);
    run("wasm-pack", ["build", c.path, "--target", c.target, "--out-dir", outDir, "--out-name", c.out_name, profile, "--no-opt", "--no-pack"], opts);
    // wasm-pack leaves a `*` .gitignore in its output, which would keep the files out of `npm pack`.
    rmSync(join(outDir, ".gitignore"), { force: true });
    const wasm = join(outDir, `${c.out_name}_bg.wasm`);
    if (cfg.wasm_opt?.enabled) run("wasm-opt", [...optFlags(cfg), wasm, "-o", wasm]);
    const glue = join(outDir, `${c.out_name}.js`);
    // A build for profiles keeps every name, the glue's too.
    const keepNames = process.env.TABMUX_WASM_NAMES === "1";
    if (cfg.wasm_opt?.enabled && cfg.wasm_opt.minify_names && !keepNames) minifyNames(wasm, glue);
    if (cfg.glue?.minify && !keepNames) await minifyGlue(glue, c.target === "web" ? "esm" : undefined);
    outputs.push(wasm, glue);
  }
  outputs.push(await buildEntry(cfg.entry));
  const dir = (name) => join(root, cfg.crate.find((c) => c.name === name).out_dir);
  const id = stamp({ workerDir: dir("worker"), tabDir: dir("tab"), shim: readFileSync(join(root, "worker", "shared-websocket-worker.js"), "utf8") });
  outputs.push(join(dir("worker"), "shared-websocket-worker.js"), join(dir("tab"), "build-id.js"));
  console.table(sizes(outputs));
  console.log(`build id ${id}`);
}

/**
 * Renames the wasm's imports, exports and import module to one or two letters
 * (`wasm-opt --minify-imports-and-exports-and-modules`, [wasm_opt] minify_names) and the
 * glue's uses of them to match: wasm-bindgen names each import after its JS shim plus a
 * hash, and those names were about 4 KB of the page's wasm and again of its glue. The
 * glue's own exported names do not change. Fails the build if a name is left over.
 */
function minifyNames(wasm, glue) {
  console.log(`$ wasm-opt --minify-imports-and-exports-and-modules ${wasm} -o ${wasm}`);
  const r = spawnSync("wasm-opt", ["--minify-imports-and-exports-and-modules", wasm, "-o", wasm], { env, cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wasm-opt --minify-imports-and-exports-and-modules failed: ${r.stderr}`);
  const map = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
  // wasm-bindgen's glue gives every import from one module (its own `*_bg.js`).
  const modules = new Set(map.imports.map(([module]) => module));
  const renamed = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasm))).map((i) => i.module));
  if (modules.size !== 1 || renamed.size !== 1) throw new Error(`${wasm}: imports from ${[...modules].join(", ")}: expected one module`);
  const [moduleName] = renamed;
  let src = readFileSync(glue, "utf8");
  const swap = (re, to) => {
    const before = src;
    src = src.replace(re, () => to);
    return before !== src;
  };
  const esc = (s) => s.replace(/[$]/g, "\\$");
  for (const m of modules) {
    if (!swap(new RegExp(`(["'])${esc(m).replace(/\./g, "\\.")}\\1`, "g"), JSON.stringify(moduleName))) throw new Error(`${glue}: import module ${m} not found`);
  }
  // Import names are the keys of the glue's import object; each is unique (a hash or a
  // __wbindgen_ name). Export names are read as `wasm.<name>`.
  for (const [, from, to] of map.imports) {
    if (!swap(new RegExp(`\\b${esc(from)}\\b(?=\\s*:)`, "g"), /^[A-Za-z_$][\w$]*$/.test(to) ? to : JSON.stringify(to))) throw new Error(`${glue}: import ${from} not found`);
  }
  for (const [from, to] of map.exports) swap(new RegExp(`\\bwasm\\.${esc(from)}\\b`, "g"), `wasm.${to}`);
  const left = [...map.imports.map(([, from]) => from), ...map.exports.map(([from]) => from)].filter((n) => new RegExp(`\\bwasm\\.${esc(n)}\\b|\\b${esc(n)}\\s*:`).test(src));
  if (left.length) throw new Error(`${glue}: still names ${left.join(", ")} after minifying the wasm's names`);
  writeFileSync(glue, src);
}

/**
 * Minifies wasm-bindgen's glue in place ([glue] in wasm-pack.toml): the same code without
 * its comments, whitespace and long local names. `format` "esm" for `--target web` (its
 * exports and its `new URL("…_bg.wasm", import.meta.url)`, which bundlers look for, stay);
 * none for the worker's classic script, whose global `wasm_bindgen` stays.
 */
async function minifyGlue(file, format) {
  const { transform } = await import("esbuild");
  const src = readFileSync(file, "utf8");
  // TypeScript and Deno find the declarations through this comment.
  const types = src.match(/^\/\* @ts-self-types="[^"]*" \*\/$/m)?.[0];
  const { code } = await transform(src, { minify: true, format, legalComments: "none", ...(types && { banner: types }) });
  writeFileSync(file, code);
}

/**
 * The page's entry ([entry] in wasm-pack.toml): `source` without comments and whitespace into `out`, its imports of
 * "../dist/…" rewritten to "./…" (out sits in dist/). Returns out's path.
 */
async function buildEntry({ source, out }) {
  const { transform } = await import("esbuild");
  const src = readFileSync(join(root, source), "utf8");
  const rewritten = src.replaceAll('"../dist/', '"./');
  if (/["']\.\.\//.test(rewritten)) throw new Error(`${source}: an import outside dist/ is left after rewriting`);
  // Names are kept (no minifyIdentifiers): `Client`, `connect` and the methods read the same
  // in a stack trace or the console as in the source, for about 100 B gzip.
  const { code } = await transform(rewritten, { minifyWhitespace: true, minifySyntax: true, format: "esm", legalComments: "none", banner: `// tabmux: ${source}, minified by scripts/build.mjs` });
  writeFileSync(join(root, out), code);
  return join(root, out);
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
  stampWasm(join(outDir, `${c.out_name}_bg.wasm`), id);
  console.log(`test worker (${t.features.join(", ")}, ${t.profile}) in ${t.out_dir}, build id ${id}`);
}

const BUILD_LINE = /^const BUILD = "([^"]*)";$/m;

/** What precedes the build id in a wasm's data (`crates/web/src/build_id.rs`). */
const MARKER = Buffer.from("tabmux-build-id:");

/**
 * Writes `id` (16 characters; "dev" is padded with spaces, as the source has it) after the
 * build-id marker in the wasm `file`: the id the code that runs reads. `required`: the wasm
 * must have exactly one marker (the direct module has none: it names no worker).
 */
function stampWasm(file, id, required = true) {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(MARKER);
  if (at < 0 && !required) return;
  if (at < 0 || bytes.indexOf(MARKER, at + 1) >= 0) throw new Error(`${file}: expected exactly one build-id marker`);
  Buffer.from(id.padEnd(16, " ")).copy(bytes, at + MARKER.length);
  writeFileSync(file, bytes);
}

/**
 * The build id: the first 16 hex digits of a SHA-256 over the worker's wasm (with its id
 * unstamped), its glue and its shim (with the id line blank), so any change to what the
 * worker runs gives a new id. Written into the worker's wasm and the page's (where the
 * running code reads it: the page names the worker after it and says it in its hello; the
 * worker refuses hellos of another release, and every hello when its shim says another id
 * than its wasm), into the shim (`workerDir/shared-websocket-worker.js`, from `shim`, the
 * source or an already stamped copy) and into `tabDir/build-id.js` (for tools and tests).
 * Returns the id.
 */
export function stamp({ workerDir, tabDir, shim }) {
  if (!BUILD_LINE.test(shim)) throw new Error('the worker shim has no `const BUILD = "…";` line to stamp');
  const template = shim.replace(BUILD_LINE, 'const BUILD = "dev";');
  const workerWasm = join(workerDir, "tabmux_worker_bg.wasm");
  stampWasm(workerWasm, "dev");
  const hash = createHash("sha256");
  for (const f of ["tabmux_worker_bg.wasm", "tabmux_worker.js"]) hash.update(readFileSync(join(workerDir, f)));
  const id = hash.update(template).digest("hex").slice(0, 16);
  stampWasm(workerWasm, id);
  stampWasm(join(tabDir, "tabmux_tab_bg.wasm"), id);
  const direct = join(tabDir, "..", "direct", "tabmux_direct_bg.wasm");
  if (existsSync(direct)) stampWasm(direct, id, false);
  writeFileSync(join(workerDir, "shared-websocket-worker.js"), template.replace(BUILD_LINE, `const BUILD = "${id}";`));
  writeFileSync(
    join(tabDir, "build-id.js"),
    `// tabmux build id (scripts/build.mjs): the id stamped into this release's wasm.\nexport default "${id}";\n`,
  );
  return id;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build();
  // `--no-test-worker`: the shipped files only.
  if (!process.argv.includes("--no-test-worker")) await buildTestWorker();
}
