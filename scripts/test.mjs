// `npm test`: everything, from a fresh machine. In order: native tests (cargo test), the
// core's fuzz targets for a bounded time (TABMUX_FUZZ_SECONDS each, default 30), the wasm
// build and the demo app, tsc on the published types, the wasm crates' tests in
// headless Chromium and Firefox (one of them inside a real SharedWorker, talking to the dev
// server), the end-to-end tests (node --test), the engine suite in Chromium, Firefox and WebKit
// (scripts/engines.mjs),
// and the Django Channels tests (scripts/django.mjs: Redis,
// two Daphne nodes and nginx, started by the tests).
import { join } from "node:path";
import { buildTestWorker, readConfig } from "./build.mjs";
import { buildDemo } from "./demo-build.mjs";
import { checkSizes } from "./size-check.mjs";
import { fuzz } from "./fuzz.mjs";
import { django } from "./django.mjs";
import { engines, ensureEngines } from "./engines.mjs";
import { execFileSync } from "node:child_process";
import { nodeTestArgs, testFiles } from "./node-test.mjs";
import { chromiumPath, ensureGeckodriver, ensureToolchain, env, root, run } from "./bootstrap.mjs";

ensureToolchain({ browser: true });
// After the toolchain step: the helpers import playwright-core, which it installs.
const { startServer, freePort } = await import("../tests/e2e/helpers.mjs");
run("cargo", ["test"]);
fuzz(Number(process.env.TABMUX_FUZZ_SECONDS ?? 30));
// The wasm build, then the demo app built from the packed package as a user's app is.
await buildDemo();
// The worker with its test-only hooks (cargo feature test-hooks), for the browser tests only.
await buildTestWorker();
run("cargo", ["build", "-p", "tabmux-devserver"]);
await checkSizes();
// The published type declarations, checked against a consumer that uses every export.
run("npx", ["--no-install", "tsc", "-p", join(root, "www", "types-check")]);
run("node", [join(root, "scripts", "check-docs.mjs")]);

const cfg = await readConfig();
// Firefox for the wasm tests too (Debian's firefox-esr, driven by a pinned geckodriver).
ensureEngines(cfg.test.browsers.filter((b) => b === "firefox"));
const drivers = {
  chrome: () => ["--chromedriver", execFileSync("sh", ["-c", "command -v chromedriver"], { env, encoding: "utf8" }).trim()],
  firefox: () => ["--geckodriver", ensureGeckodriver()],
};
for (const browser of cfg.test.browsers) {
  const driver = drivers[browser]();
  // The wasm tests run on the test runner's own origin (its server, on a port of its own) and
  // read /control/* and open sockets on the dev server: another origin, which the dev server
  // refuses unless told. So the runner gets a port chosen here (WASM_BINDGEN_TEST_ADDRESS)
  // and the dev server allows exactly that origin.
  const runnerPort = await freePort();
  // A dev server per browser: the tests read its logs.
  const server = await startServer({ extra: ["--allow-origin", `http://127.0.0.1:${runnerPort}`] });
  try {
    for (const crate of cfg.test.crates) {
      run("wasm-pack", ["test", "--headless", `--${browser}`, ...driver, crate], {
        env: {
          ...env,
          // Read at compile time by the wasm tests: where the dev server for this run listens.
          TABMUX_TEST_HTTP: server.http,
          WASM_BINDGEN_TEST_ADDRESS: `127.0.0.1:${runnerPort}`,
          WASM_BINDGEN_TEST_TIMEOUT: String(cfg.test.timeout_s),
          CHROME_BIN: chromiumPath(),
        },
      });
    }
  } finally {
    await server.stop();
  }
}

// Each test within 5 minutes: the slowest (the Next.js, webpack and Vite apps' installs and
// builds, run in `before` hooks) take about a minute here; every wait inside has its own deadline.
run("node", nodeTestArgs(testFiles(join(root, "tests", "e2e")), 5 * 60_000));
// The engine suite (tests/engines) in Chromium, Firefox ESR and WebKitGTK (installs them as root).
await engines(["chromium", "firefox", "webkit"]);
django();
