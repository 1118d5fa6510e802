// Shared pieces of the end-to-end tests: the real dev server on 127.0.0.1 (port 0), the
// Debian Chromium driven by playwright-core, and the real worker script.
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { before, after } from "node:test";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts tabmux-devserver (built by scripts/test.mjs) and resolves once it listens.
 * By default it serves the harness page, the worker and the package; `statics` replaces that. */
export async function startServer({ statics, extra = [], bin = join(root, "target", "debug", "tabmux-devserver") } = {}) {
  statics ??= [join(root, "tests/e2e/pages"), join(root, "dist/worker"), root];
  const args = ["--port", "0", ...statics.flatMap((d) => ["--static", d]), ...extra];
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once("line", (line) => {
      const m = line.match(/127\.0\.0\.1:(\d+)/);
      m ? resolve(Number(m[1])) : reject(new Error(`unexpected server output: ${line}`));
    });
    proc.once("exit", (code) => reject(new Error(`dev server exited with ${code}`)));
  });
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
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    },
  };
}

export async function launchBrowser() {
  const executablePath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** Opens the harness page in `context` and waits for its module to load. */
export async function openTab(context, server) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
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
