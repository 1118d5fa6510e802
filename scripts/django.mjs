// The Django Channels end-to-end tests (tests/django): installs what they need that the rest of
// `npm test` does not (Debian's redis-server and nginx, a virtual environment with the
// example's pinned requirements), then runs them. Needs what scripts/test.mjs already sets up:
// Chromium, playwright-core and a built dist/ (`npm run build`).
//
//   node scripts/django.mjs            # install what is missing, run tests/django
//   node scripts/django.mjs --setup    # only install
//
// From scripts/test.mjs: `import { django } from "./django.mjs"; django();`
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { env, root, run } from "./bootstrap.mjs";
import { nodeTestArgs, testFiles } from "./node-test.mjs";

const example = join(root, "examples", "django-channels");
const venv = join(example, ".venv");
const requirements = join(example, "requirements.txt");
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

const has = (cmd, args = ["--version"]) => spawnSync(cmd, args, { env, stdio: "ignore" }).status === 0;

function fail(what, command) {
  console.error(`\ntabmux: ${what}.\nInstall it with:\n\n    ${command}\n`);
  process.exit(1);
}

/** redis-server and nginx from Debian (as root: apt-get update once, then install). */
export function ensureServers() {
  if (has("redis-server") && has("nginx", ["-v"])) return;
  const cmd = "apt-get update && apt-get install -y --no-install-recommends redis-server nginx";
  if (!isRoot || !has("apt-get")) fail("redis-server and nginx are needed for the Django tests", `sudo sh -c '${cmd}'`);
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "--no-install-recommends", "redis-server", "nginx"], { env: { ...env, DEBIAN_FRONTEND: "noninteractive" } });
}

/** examples/django-channels/.venv with requirements.txt installed; redone when that file changes. */
export function ensureVenv() {
  const stamp = join(venv, ".requirements.txt");
  const wanted = readFileSync(requirements, "utf8");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) return;
  const python = ["python3", "python"].find((p) => has(p));
  if (!python) fail("Python 3 is needed for the Django example", "sudo apt-get install -y python3 python3-venv");
  if (!existsSync(join(venv, "bin", "python"))) {
    let r = spawnSync(python, ["-m", "venv", venv], { stdio: "inherit", env });
    if (r.status !== 0 && isRoot && has("apt-get")) {
      // Debian's own python3 keeps venv (ensurepip) in a separate package.
      run("apt-get", ["install", "-y", "--no-install-recommends", "python3-venv"], { env: { ...env, DEBIAN_FRONTEND: "noninteractive" } });
      r = spawnSync(python, ["-m", "venv", "--clear", venv], { stdio: "inherit", env });
    }
    if (r.status !== 0) fail("`python3 -m venv` failed", "sudo apt-get install -y python3-venv");
  }
  run(join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
  writeFileSync(stamp, wanted);
}

/** Installs what is missing, then runs tests/django (node's test runner; exits non-zero on a failure). */
export function django() {
  ensureServers();
  ensureVenv();
  // What scripts/test.mjs sets up before calling this: the build, playwright-core, Chromium.
  if (!existsSync(join(root, "dist", "worker", "tabmux_worker_bg.wasm"))) fail("tabmux is not built", "npm run build");
  if (!existsSync(join(root, "node_modules", "playwright-core", "package.json"))) fail("playwright-core is missing", "npm ci");
  if (!has("chromium")) fail("Chromium is needed for the browser tests", "node scripts/bootstrap.mjs --browser");
  run("node", nodeTestArgs(testFiles(join(root, "tests", "django")), 5 * 60_000));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--setup")) {
    ensureServers();
    ensureVenv();
  } else django();
}
