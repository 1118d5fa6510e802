// The demo under the Vite dev server (`vite`, Vite as pinned in www/package.json) with the
// tabmux/vite plugin and nothing copied by hand: the worker files come from the installed
// package, tabmux stays out of pre-bundling, shared and direct mode both run. And `vite build`
// (scripts/demo-build.mjs, run before the e2e tests) emitted the worker files of the package.
// The built demo itself is driven by react.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { startServer, launchBrowser, until, root, deadline, freePort } from "./helpers.mjs";

const www = join(root, "www");
const WORKER_FILES = ["shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"];
let server, browser, vite, viteUrl;

before(async () => {
  // The dev server only for /ws and /control (Vite proxies them, with the page's Origin: the
  // dev server is told Vite's); a prices frame every 200 ms.
  const vitePort = await freePort();
  server = await startServer({ statics: [], extra: ["--tick-ms", "200", "--allow-origin", `http://127.0.0.1:${vitePort}`] });
  browser = await launchBrowser();
  vite = spawn(process.execPath, [join(www, "node_modules", "vite", "bin", "vite.js"), "--host", "127.0.0.1", "--port", String(vitePort), "--strictPort", "--force"], {
    cwd: www,
    env: { ...process.env, TABMUX_DEVSERVER: server.http, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  viteUrl = await deadline(new Promise((resolve, reject) => {
    const rl = createInterface({ input: vite.stdout });
    rl.on("line", (line) => {
      const m = line.match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    vite.once("exit", (code) => reject(new Error(`vite exited with ${code}`)));
  }), 60_000, "vite to listen");
});
after(async () => {
  await browser?.close();
  if (vite && vite.exitCode === null) {
    vite.kill("SIGTERM");
    await deadline(new Promise((r) => vite.once("exit", r)), 15_000, "vite to exit");
  }
  await server?.stop();
});

const text = (page, id) => page.locator(`[data-testid=${id}]`).innerText();

async function openDemo(context, query = "") {
  const page = await context.newPage();
  await page.goto(`${viteUrl}/${query}`);
  await until(async () => (await text(page, "state")) === "open", "the demo shows open", 30_000);
  return page;
}

test("vite dev: two tabs share one socket through the plugin-served worker; frames reach both", async () => {
  assert.ok(!existsSync(join(www, "public")), "no worker files copied by hand");
  const context = await browser.newContext();
  const tabs = [await openDemo(context), await openDemo(context)];
  for (const p of tabs) {
    assert.equal(await text(p, "transport"), "shared");
    await until(async () => (await text(p, "tabs")) === "2", "2 tabs sharing");
    await until(async () => (await text(p, "server")) === "1", "the server-sockets card (proxied /control/stats) says 1");
  }
  assert.equal((await server.ctl("/control/stats")).current, 1);
  for (const p of tabs) await until(async () => (await p.locator("[data-testid=topic-prices] li").count()) > 0, "prices frames in every tab");
  // The worker came from the plugin: the installed package's files, byte for byte.
  for (const f of WORKER_FILES) {
    const served = Buffer.from(await (await fetch(`${viteUrl}/${f}`)).arrayBuffer());
    assert.ok(served.equals(readFileSync(join(www, "node_modules", "tabmux", "dist", "worker", f))), f);
  }
  assert.equal((await fetch(`${viteUrl}/tabmux_worker_bg.wasm`)).headers.get("content-type"), "application/wasm");
  // Pre-bundling left tabmux alone (its wasm URLs stay relative to its own files).
  const meta = JSON.parse(readFileSync(join(www, "node_modules", ".vite", "deps", "_metadata.json"), "utf8"));
  assert.ok(Object.keys(meta.optimized).length > 0);
  assert.deepEqual(Object.keys(meta.optimized).filter((k) => k.startsWith("tabmux")), []);
  await context.close();
  await until(async () => (await server.ctl("/control/stats")).current === 0, "the socket closed with the tabs");
});

test("vite dev: direct mode loads its wasm module too", async () => {
  const context = await browser.newContext();
  const page = await openDemo(context, "?direct");
  assert.equal(await text(page, "transport"), "direct");
  await until(async () => (await page.locator("[data-testid=topic-prices] li").count()) > 0, "prices frames");
  await context.close();
});

test("vite build: the plugin emitted the package's worker files at the root of dist/", () => {
  for (const f of WORKER_FILES) {
    assert.ok(readFileSync(join(www, "dist", f)).equals(readFileSync(join(www, "node_modules", "tabmux", "dist", "worker", f))), f);
  }
});
