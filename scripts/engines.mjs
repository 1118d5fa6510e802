// The end-to-end scenarios of tests/engines in Firefox ESR and WebKitGTK (Debian's packages),
// one engine at a time. Installs the engines with apt when run as root and they are missing
// (otherwise prints the exact command), builds what the scenarios serve when it is missing,
// then runs `node --test tests/engines/suite.test.mjs` once per engine and prints the time each took.
//
//   node scripts/engines.mjs                 # firefox, then webkit
//   node scripts/engines.mjs webkit          # only the named engines (chromium works too)
//   import { engines } from "./engines.mjs"; engines();   // exits non-zero on failure
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { env, root, run } from "./bootstrap.mjs";
import { nodeTestArgs } from "./node-test.mjs";

const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const PACKAGES = {
  firefox: { packages: ["firefox-esr"], present: () => existsSync("/usr/bin/firefox-esr") },
  webkit: { packages: ["webkit2gtk-driver", "xvfb"], present: () => has("WebKitWebDriver") && has("xvfb-run") && existsSync(MINIBROWSER) },
  chromium: { packages: ["chromium"], present: () => has("chromium") },
};

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { env }).status === 0;
}

/** Installs the engines' Debian packages when missing (as root), or says how and exits. */
export function ensureEngines(names) {
  const missing = [...new Set(names.filter((n) => !PACKAGES[n].present()).flatMap((n) => PACKAGES[n].packages))];
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !has("apt-get")) {
    console.error(`\ntabmux: ${missing.join(", ")} needed for the engine suite.\nInstall with:\n\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(" ")}\n`);
    process.exit(1);
  }
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env: { ...env, DEBIAN_FRONTEND: "noninteractive" } });
}

/** What the scenarios serve: the wasm build, the dev server and the demo app. */
async function ensureBuilt() {
  if (!existsSync(join(root, "www", "dist", "index.html")) || !existsSync(join(root, "dist", "worker", "tabmux_worker_bg.wasm"))) {
    const { buildDemo } = await import("./demo-build.mjs");
    await buildDemo();
  }
  if (!existsSync(join(root, "target", "debug", "tabmux-devserver"))) run("cargo", ["build", "-p", "tabmux-devserver"]);
}

/** Runs the engine suite in each named engine, one after the other; exits non-zero if any failed. */
export async function engines(names = ["firefox", "webkit"]) {
  ensureEngines(names);
  await ensureBuilt();
  const times = [];
  let failed = [];
  for (const name of names) {
    const t0 = Date.now();
    console.log(`$ TABMUX_ENGINE=${name} node --test tests/engines/suite.test.mjs`);
    // The suite is one test file, and node's --test-timeout bounds the whole file: 10 min for
    // the ~40 scenarios (WebKit, the slowest, took 214 s on 2 busy cores with 38 of them),
    // then a hard limit per engine a little above it.
    const r = spawnSync("node", nodeTestArgs([join(root, "tests", "engines", "suite.test.mjs")], 10 * 60_000), {
      stdio: "inherit",
      cwd: root,
      env: { ...env, TABMUX_ENGINE: name },
      timeout: 12 * 60_000,
      killSignal: "SIGKILL",
    });
    const secs = (Date.now() - t0) / 1000;
    times.push(`${name} ${secs.toFixed(1)} s`);
    if (r.status !== 0) failed.push(`${name} (exit ${r.status ?? r.signal})`);
  }
  console.log(`tabmux: engine suite time per engine: ${times.join(", ")}`);
  if (failed.length) {
    console.error(`tabmux: the engine suite failed in ${failed.join(", ")}`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const bad = names.filter((n) => !PACKAGES[n]);
  if (bad.length) {
    console.error(`tabmux: unknown engine ${bad.join(", ")}; one of ${Object.keys(PACKAGES).join(", ")}`);
    process.exit(2);
  }
  await engines(names.length ? names : undefined);
}
