// Installs what the build and the tests need, or says exactly what to install.
// Used by scripts/build.mjs, scripts/demo.mjs and scripts/test.mjs; safe to run again:
// every step is skipped when its tool is already there at the right version.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** PATH with cargo's bin and the npm binaries (wasm-opt from `binaryen`) first. */
export const env = {
  ...process.env,
  PATH: [join(root, "node_modules", ".bin"), join(homedir(), ".cargo", "bin"), process.env.PATH].join(":"),
};

function fail(what, command) {
  console.error(`\ntabmux: ${what}.\nInstall it with:\n\n    ${command}\n`);
  process.exit(1);
}

function has(cmd, args = ["--version"]) {
  const r = spawnSync(cmd, args, { env, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function run(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env, cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`tabmux: \`${cmd} ${args.join(" ")}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** The wasm-bindgen version Cargo.lock resolved: the CLI must match it exactly. */
export function lockedVersion(name) {
  const lock = readFileSync(join(root, "Cargo.lock"), "utf8");
  const m = lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`));
  if (!m) throw new Error(`${name} is not in Cargo.lock`);
  return m[1];
}

export const WASM_PACK_VERSION = "0.15.1";

export function ensureToolchain({ browser = false } = {}) {
  if (!has("cargo")) fail("cargo (Rust) is not installed", "curl https://sh.rustup.rs -sSf | sh   # then open a new shell");
  const targets = has("rustup", ["target", "list", "--installed"]);
  if (targets === null) fail("rustup is needed to add the wasm32 target", "curl https://sh.rustup.rs -sSf | sh");
  if (!targets.split("\n").includes("wasm32-unknown-unknown")) run("rustup", ["target", "add", "wasm32-unknown-unknown"]);

  const bindgen = lockedVersion("wasm-bindgen");
  if (has("wasm-bindgen") !== `wasm-bindgen ${bindgen}`) {
    // No --locked: the registry mirror can lag behind the CLI's own lockfile.
    run("cargo", ["install", "wasm-bindgen-cli", "--version", bindgen, "--force"]);
  }
  if (!has("wasm-pack")) run("cargo", ["install", "wasm-pack", "--version", WASM_PACK_VERSION]);

  const wanted = ["smol-toml", "playwright-core", "puppeteer-core", "binaryen", "esbuild"];
  if (!wanted.every((p) => existsSync(join(root, "node_modules", p, "package.json")))) {
    run("npm", existsSync(join(root, "package-lock.json")) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"]);
  }

  if (browser && !(has("chromium") && has("chromedriver"))) {
    if (!isRoot || !has("apt-get", ["--version"])) {
      fail("Chromium and ChromeDriver are needed for the browser tests", "sudo apt-get update && sudo apt-get install -y chromium chromium-driver");
    }
    run("apt-get", ["update"]);
    run("apt-get", ["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"], {
      env: { ...env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
}

/**
 * The pinned nightly toolchain that wasm-pack.toml's [lean_std] names, installed with
 * rust-src (cargo's -Zbuild-std rebuilds std from it) and the wasm32 target.
 */
export function ensureLeanStd(toolchain) {
  const lean = { ...env, RUSTUP_TOOLCHAIN: toolchain, RUSTUP_AUTO_INSTALL: "0" };
  const ready = (args) => spawnSync("rustup", args, { env: lean, encoding: "utf8" });
  const components = ready(["component", "list", "--installed"]);
  const targets = ready(["target", "list", "--installed"]);
  const installed =
    components.status === 0 &&
    components.stdout.split("\n").some((c) => c.startsWith("rust-src")) &&
    targets.stdout.split("\n").includes("wasm32-unknown-unknown");
  if (!installed) run("rustup", ["toolchain", "install", toolchain, "--profile", "minimal", "--component", "rust-src", "--target", "wasm32-unknown-unknown"]);
}

export const CARGO_FUZZ_VERSION = "0.13.2";

/** cargo-fuzz for the core's fuzz targets (stable Rust, `--sanitizer none`). */
export function ensureCargoFuzz() {
  if (has("cargo", ["fuzz", "--version"]) !== `cargo-fuzz ${CARGO_FUZZ_VERSION}`) {
    run("cargo", ["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked", "--force"]);
  }
}

export const GECKODRIVER_VERSION = "0.37.1";

/** geckodriver, for `wasm-pack test --firefox` (from crates.io, pinned). Returns its path. */
export function ensureGeckodriver() {
  if (has("geckodriver", ["--version"])?.split("\n")[0].split(" ")[1] !== GECKODRIVER_VERSION) {
    run("cargo", ["install", "geckodriver", "--version", GECKODRIVER_VERSION, "--locked", "--force"]);
  }
  return execFileSync("sh", ["-c", "command -v geckodriver"], { env, encoding: "utf8" }).trim();
}

export function chromiumPath() {
  return execFileSync("sh", ["-c", "command -v chromium"], { env, encoding: "utf8" }).trim();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureToolchain({ browser: process.argv.includes("--browser") });
  console.log("tabmux: toolchain ready");
}
