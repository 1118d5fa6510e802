// Shared pieces of the end-to-end tests: the real dev server on 127.0.0.1 (port 0), the
// Debian Chromium driven by playwright-core, and the real worker script.
import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createServer as createNetServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { before, after, afterEach } from "node:test";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts tabmux-devserver (built by scripts/test.mjs) and resolves once it listens.
 * By default it serves the harness page, the worker and the package; `statics` replaces that. */
export async function startServer({ statics, extra = [], bin = join(root, "target", "debug", "tabmux-devserver") } = {}) {
  statics ??= [join(root, "tests/e2e/pages"), join(root, "dist/worker"), root];
  const args = ["--port", "0", ...statics.flatMap((d) => ["--static", d]), ...extra];
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const listening = new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once("line", (line) => {
      const m = line.match(/127\.0\.0\.1:(\d+)/);
      m ? resolve(Number(m[1])) : reject(new Error(`unexpected server output: ${line}`));
    });
    proc.once("exit", (code) => reject(new Error(`dev server exited with ${code}`)));
  });
  let port;
  try {
    port = await deadline(listening, 30_000, "the dev server to listen");
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  const http = `http://127.0.0.1:${port}`;
  return {
    port,
    http,
    ws: (path = "/ws") => `ws://127.0.0.1:${port}${path}`,
    async ctl(path) {
      const r = await fetch(http + path);
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      return r.json();
    },
    async stop() {
      proc.kill("SIGKILL");
      await deadline(new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r))), 10_000, "the dev server to exit");
    },
  };
}

/** A TCP port free on 127.0.0.1 now: for a server of another origin (Vite, Next.js, the wasm
 *  test runner) whose origin the dev server must be told (`--allow-origin`) before it starts. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves as `promise` does, or rejects naming `what` once `ms` pass: every wait of the
 * tests that is not a Playwright call with its own timeout goes through this or `until`. */
export function deadline(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for: ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// Uncaught exceptions and unhandled rejections in any page of a browser from `launchBrowser`
// (Playwright's `weberror`), since the last test ended. The `afterEach` below fails the test
// that was running unless the test declared the error with `expectPageError`.
const pageErrors = [];
const expectedPageErrors = [];

/** Declares, inside a test, that a page error whose message matches `pattern` is part of
 * what the test provokes: it does not fail the test. */
export function expectPageError(pattern) {
  expectedPageErrors.push(pattern);
}

/** The page errors recorded so far in this test (for a test that asserts on them). */
export const pageErrorsSoFar = () => pageErrors.map((e) => e.message);

// Registered once per test file (each file runs in its own process under `node --test`):
// fails the test during which a page threw or rejected without a handler.
let hooked = false;
function failOnPageErrors() {
  if (hooked) return;
  hooked = true;
  afterEach(() => {
    const unexpected = pageErrors.filter((e) => !expectedPageErrors.some((p) => p.test(e.message)));
    pageErrors.length = 0;
    expectedPageErrors.length = 0;
    if (unexpected.length) throw new Error(`uncaught error in a page:\n${unexpected.map((e) => `  ${e.url}: ${e.stack || e.message}`).join("\n")}`);
  });
}
// Also when a test file calls `launchBrowser` itself: the hook must be registered at the top
// level of the file, before its tests run, so it is registered when this module loads under
// the test runner (`scripts/test.mjs` imports this module too, outside any test).
if (process.env.NODE_TEST_CONTEXT || /\.test\.mjs$/.test(process.argv[1] ?? "")) failOnPageErrors();

function watchContext(context) {
  context.on("weberror", (e) => {
    const err = e.error();
    const url = e.page()?.url() ?? "?";
    console.error(`page error (${url}): ${err.message}`);
    pageErrors.push({ message: err.message, stack: err.stack, url });
  });
  return context;
}

export async function launchBrowser() {
  const executablePath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  const browser = await launchChromium(executablePath);
  // Every context of this browser reports its pages' errors (browser.newPage makes one too).
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...a) => watchContext(await newContext(...a));
  browser.newPage = async (...a) => {
    const context = await browser.newContext(...a);
    const page = await context.newPage();
    page.once("close", () => context.close().catch(() => {}));
    return page;
  };
  return browser;
}

function launchChromium(executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** Opens the harness page in `context` and waits for its module to load. */
export async function openTab(context, server) {
  const page = await context.newPage();
  await page.goto(`${server.http}/harness.html`);
  await page.waitForFunction(() => document.title === "ready");
  return page;
}

/** Polls `fn` until it returns a truthy value or `ms` pass; then throws with `what`. */
export async function until(fn, what, ms = 10_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what} (last: ${JSON.stringify(last)})`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The frames a broadcast of seqs `from..=to` on `channel` sends. */
export function seqFrames(from, to, channel = "") {
  const out = [];
  for (let s = from; s <= to; s++) out.push(JSON.stringify({ seq: s, channel, pad: "" }));
  return out;
}

/** Registers before/after hooks that start the dev server and the browser for a test file
 * and stop them at the end; `set(server, browser)` receives them once started. */
export function withServerAndBrowser(set, serverOptions) {
  let server, browser;
  before(async () => {
    server = await startServer(serverOptions);
    browser = await launchBrowser();
    set(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}

/** A copy of the release worker (dist/worker) whose script runs `prelude` first, written to
 * dist-test/<name>/ (never shipped; served from the project root): a test's way to change
 * what the worker sees (its clock, its timers) or to end it. Returns its URL path. */
export function workerCopy(name, prelude) {
  const dir = join(root, "dist-test", name);
  mkdirSync(dir, { recursive: true });
  for (const f of ["tabmux_worker.js", "tabmux_worker_bg.wasm"]) copyFileSync(join(root, "dist/worker", f), join(dir, f));
  const shim = readFileSync(join(root, "dist/worker/shared-websocket-worker.js"), "utf8");
  writeFileSync(join(dir, "shared-websocket-worker.js"), `${prelude}\n${shim}`);
  return `/dist-test/${name}/shared-websocket-worker.js`;
}

/** Preludes for `workerCopy`. `ENDER` ends the worker (as a browser that ends it does:
 * Android under memory pressure) on a message on the BroadcastChannel "tabmux-test-end";
 * `CLOCK` shifts Date.now by the offset a message on "tabmux-test-clock" sets (an OS clock
 * step, as the worker sees it; also run in a page before its scripts); `TIMERS` counts the
 * setTimeout callbacks that run, answering any message on "tabmux-test-timers" with the count. */
export const ENDER = `new BroadcastChannel("tabmux-test-end").onmessage = () => self.close();`;
export const CLOCK = `(() => { const real = Date.now.bind(Date); let offset = 0;
  new BroadcastChannel("tabmux-test-clock").onmessage = (e) => { offset = e.data; };
  Date.now = () => real() + offset; })();`;
export const TIMERS = `(() => { const real = self.setTimeout.bind(self); let fired = 0;
  const ch = new BroadcastChannel("tabmux-test-timers"); ch.onmessage = () => ch.postMessage(fired);
  self.setTimeout = (f, ms, ...a) => real((...b) => { fired++; return f(...b); }, ms, ...a); })();`;

/** A prelude for `workerCopy`: counts the worker's `performance.now()` calls, answering any
 * message on "tabmux-test-now" with the count. */
export const CLOCK_READS = `(() => { const real = performance.now.bind(performance); let reads = 0;
  const ch = new BroadcastChannel("tabmux-test-now"); ch.onmessage = () => ch.postMessage(reads);
  performance.now = () => (reads++, real()); })();`;

/** In a page: the clock reads a `CLOCK_READS` worker copy has made so far. */
export const clockReads = () =>
  new Promise((resolve) => {
    const ch = new BroadcastChannel("tabmux-test-now");
    ch.onmessage = (e) => resolve(e.data);
    ch.postMessage("count?");
  });

/** In a page: the timer callbacks a `TIMERS` worker copy has run so far. */
export const timersFired = () =>
  new Promise((resolve) => {
    const ch = new BroadcastChannel("tabmux-test-timers");
    ch.onmessage = (e) => resolve(e.data);
    ch.postMessage("count?");
  });

/** Every duration option at Number.MAX_SAFE_INTEGER (workerTimeoutMs has its own range). */
export const NEVER = (() => {
  const M = Number.MAX_SAFE_INTEGER;
  return {
    connectTimeoutMs: M,
    idleCloseMs: M,
    backoff: { initialMs: M, maxMs: M, minUptimeMs: M },
    breaker: { resetTimeoutMs: M },
    heartbeat: { intervalMs: M, timeoutMs: M },
    token: { debounceMs: M },
    queue: { ttlMs: M },
  };
})();
