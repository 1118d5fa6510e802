// A minimal app built with plain webpack 5 (tests/apps/webpack: webpack pinned in its own
// package.json and lockfile, installed here with npm ci), tabmux installed from this
// checkout's packed package, the worker deployed with `tabmux copy-worker dist/`; served by
// the dev server and driven in Chromium: two tabs, one server socket, frames in both; and
// direct mode, whose module webpack split into its own chunk.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startServer, launchBrowser, until, seqFrames, root } from "./helpers.mjs";
import { installApp, sh } from "../apps/install.mjs";

const app = join(root, "tests", "apps", "webpack");
let server, browser;

before(async () => {
  const times = installApp(app);
  times.buildMs = sh(process.execPath, ["build.mjs"], { cwd: app, minutes: 10 }).ms;
  console.log(`webpack app: ${JSON.stringify(times)}`);
  server = await startServer({ statics: [join(app, "dist")] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openApp(context, query = "") {
  const page = await context.newPage();
  await page.goto(`${server.http}/${query}`);
  await until(() => page.evaluate(() => APP.error ?? (APP.status?.state === "open" ? "open" : null)), "the app connected", 20_000);
  assert.equal(await page.evaluate(() => APP.error), null);
  return page;
}

test("webpack 5: two tabs share one server socket; frames reach both", async () => {
  const files = readdirSync(join(app, "dist"));
  // The page's wasm went through webpack as an asset; the worker files were copied beside it.
  assert.ok(files.some((f) => f.endsWith(".wasm") && f !== "tabmux_worker_bg.wasm"), files.join(" "));
  for (const f of ["shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"]) assert.ok(files.includes(f), f);
  const context = await browser.newContext();
  const tabs = [await openApp(context), await openApp(context)];
  for (const p of tabs) assert.equal(await p.evaluate(() => APP.transport), "shared");
  await until(() => tabs[0].evaluate(() => APP.status?.tabs === 2), "2 tabs");
  assert.equal((await server.ctl("/control/stats")).byChannel.webpack, 1);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=webpack&n=3");
  for (const p of tabs) {
    await until(() => p.evaluate(() => APP.messages.length === 3), "3 frames");
    assert.deepEqual(await p.evaluate(() => APP.messages), seqFrames(firstSeq, firstSeq + 2, "webpack"));
  }
  await context.close();
  await until(async () => !(await server.ctl("/control/stats")).byChannel.webpack, "the socket closed with the tabs");
});

test("webpack 5: direct mode loads its chunk and wasm", async () => {
  await server.ctl("/control/reset");
  const context = await browser.newContext();
  const page = await openApp(context, "?direct");
  assert.equal(await page.evaluate(() => APP.transport), "direct");
  const { firstSeq } = await server.ctl("/control/broadcast?channel=webpack&n=2");
  await until(() => page.evaluate(() => APP.messages.length === 2), "2 frames");
  assert.deepEqual(await page.evaluate(() => APP.messages), seqFrames(firstSeq, firstSeq + 1, "webpack"));
  const fetched = (await server.ctl("/control/stats")).files;
  assert.ok(!fetched.includes("/shared-websocket-worker.js"), "no worker in direct mode");
  assert.equal(fetched.filter((f) => f.endsWith(".wasm")).length, 2, fetched.join(" "));
  await context.close();
});
