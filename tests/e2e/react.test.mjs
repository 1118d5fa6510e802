// The demo app (Vite + React, installed from the packed tarball, StrictMode) driven in the
// real browser with several tabs: hooks, topic ref-counts, handler changes, screenshots.
// Also: the worker deployment step, run on a scratch folder.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, until, sleep, root } from "./helpers.mjs";

let server, browser;
const shots = join(root, "tests", "e2e", "results");
before(async () => {
  mkdirSync(shots, { recursive: true });
  // Only the built demo: the worker files come from its public/ (copy-worker), as on a user's site.
  server = await startServer({ statics: [join(root, "www", "dist")] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const sub = (t) => `{"type":"subscribe","topic":"${t}"}`;
const unsub = (t) => `{"type":"unsubscribe","topic":"${t}"}`;
const received = async () => (await server.ctl("/control/stats")).received.map((r) => r.data).filter((d) => !d.includes('"ping"'));
const text = (page, id) => page.locator(`[data-testid=${id}]`).innerText();

async function openDemo(context) {
  const page = await context.newPage();
  await page.goto(`${server.http}/`);
  await until(async () => (await text(page, "state")) === "open", "the demo shows open");
  return page;
}

test("demo under StrictMode: one socket, one subscribe per topic, hooks agree with server and worker, handler swaps never reconnect", async () => {
  await server.ctl("/control/reset");
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const a = await openDemo(context);
  await until(async () => (await received()).length === 1, "the subscribe frame");
  await sleep(300);
  let stats = await server.ctl("/control/stats");
  assert.equal(stats.current, 1);
  assert.equal(stats.accepts.length, 1, "StrictMode's double mount made no second socket");
  assert.deepEqual(await received(), [sub("prices")], "and no unsubscribe/subscribe pair");

  const b = await openDemo(context);
  for (const p of [a, b]) await until(async () => (await text(p, "tabs")) === "2", "2 tabs shown");
  assert.equal(await text(b, "transport"), "shared");
  await sleep(300);
  assert.deepEqual(await received(), [sub("prices")], "the second tab's useTopic adds no server subscription");
  stats = await server.ctl("/control/stats");
  assert.equal(stats.current, 1);
  // The card polls /control/stats every second: wait for its first answer, which must say 1.
  await until(async () => (await text(a, "server")) !== "…", "the server-sockets card's first poll");
  assert.equal(await text(a, "server"), "1");

  // Unmounting the topic component in one tab keeps the subscription for the other…
  await a.click("[data-testid=toggle-prices]");
  await sleep(500);
  assert.deepEqual(await received(), [sub("prices")]);
  // …and in both sends exactly one unsubscribe.
  await b.click("[data-testid=toggle-prices]");
  await until(async () => (await received()).length === 2, "one unsubscribe");
  await sleep(300);
  assert.deepEqual(await received(), [sub("prices"), unsub("prices")]);

  // New handlers (every render, and the swap button) never reconnect or resubscribe.
  await b.click("[data-testid=toggle-news]");
  await until(async () => (await received()).length === 3, "news subscribed");
  for (let i = 0; i < 5; i++) await a.click("[data-testid=swap]");
  assert.equal(await text(a, "handler"), "#5");
  await server.ctl("/control/broadcast?n=30");
  await sleep(500);
  stats = await server.ctl("/control/stats");
  assert.equal(stats.accepts.length, 1);
  assert.deepEqual(await received(), [sub("prices"), unsub("prices"), sub("news")]);

  // A chat line from one tab reaches the server once.
  await b.fill("[data-testid=chat-input]", "hello from b");
  await b.click("[data-testid=chat-send]");
  await until(async () => (await received()).some((d) => d.includes("hello from b")), "chat at the server");
  await a.screenshot({ path: join(shots, "dashboard.png") });
  await context.close();
});

test("useSharedWorker false (direct mode) works the same through the hooks", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.http}/?direct`);
  await until(async () => (await text(page, "state").catch(() => "")) === "open", "open");
  assert.equal(await text(page, "transport"), "direct");
  assert.equal(await text(page, "tabs"), "1");
  await page.screenshot({ path: join(shots, "dashboard-direct.png") });
  await context.close();
});

test("demo: a notify frame makes one toast across 3 tabs, in the leader; the leader badge moves when that tab closes, and the next toast shows there", async () => {
  await server.ctl("/control/reset");
  const context = await browser.newContext();
  const pages = [await openDemo(context), await openDemo(context), await openDemo(context)];
  for (const p of pages) await until(async () => (await text(p, "tabs")) === "3", "3 tabs shown");
  const badges = () => Promise.all(pages.filter((p) => !p.isClosed()).map((p) => text(p, "leader")));
  const toasts = () => Promise.all(pages.filter((p) => !p.isClosed()).map((p) => p.locator("[data-testid=toast]").count()));
  await until(async () => (await badges()).filter((b) => b === "this tab").length === 1, "one leader badge");
  assert.deepEqual(await badges(), ["this tab", "another tab", "another tab"]);
  await pages[1].click("[data-testid=notify]");
  await until(async () => (await toasts()).reduce((a, b) => a + b) === 1, "a toast");
  await sleep(500);
  assert.deepEqual(await toasts(), [1, 0, 0], "one toast, in the leader");
  await pages[0].close();
  await until(async () => (await badges()).filter((b) => b === "this tab").length === 1, "the badge moved");
  const next = (await badges()).indexOf("this tab");
  await server.ctl("/control/notify?text=again");
  await until(async () => (await toasts()).reduce((a, b) => a + b) === 1, "the next toast");
  await sleep(500);
  const shown = await toasts();
  assert.equal(shown.reduce((a, b) => a + b), 1);
  assert.equal(shown.indexOf(1), next, "in the new leader");
  await context.close();
});

test("renders: 1,000 frames re-render neither the health badge nor a status-only hook nor a topic component; a filter renders only the frames it accepts; a status change does render the badge", async () => {
  const ch = "renders";
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.http}/renders.html?channel=${ch}`);
  await until(async () => (await text(page, "badge").catch(() => "")) === "open 1", "the badge shows open");
  await until(async () => (await server.ctl("/control/stats")).received.some((r) => r.channel === ch && r.data.includes("subscribe")), "prices subscribed");
  await sleep(300);
  const before = await page.evaluate(() => ({ ...RENDERS }));
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=1000`);
  await until(() => page.evaluate(() => SEEN.everything === 1000), "1000 frames seen by the unfiltered hook");
  await sleep(300);
  const after = await page.evaluate(() => ({ ...RENDERS }));
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  const hundreds = [];
  for (let s = firstSeq; s < firstSeq + 1000; s++) if (s % 100 === 0) hundreds.push(s);
  assert.equal(delta.badge, 0, "useConnectionHealth: 0 renders for 1000 frames");
  assert.equal(delta.statusOnly, 0, "useSharedWebSocket({ filter: () => false }): 0 renders");
  assert.equal(delta.topic, 0, "useTopic: 0 renders");
  // React batches updates that land close together, so 10 accepted frames make 1 to 10 renders.
  assert.ok(delta.filtered >= 1 && delta.filtered <= 10, `json + filter: at most one render per accepted frame (10 of 1000), got ${delta.filtered}`);
  assert.deepEqual(await page.evaluate(() => SEEN.filtered), hundreds, "onMessage gets exactly the accepted frames, parsed");
  assert.equal(await text(page, "filtered"), String(hundreds.at(-1)));
  assert.ok(delta.everything >= 1 && delta.everything <= 1000, `the unfiltered hook renders for frames (${delta.everything})`);
  console.log(`renders for 1000 frames: ${JSON.stringify(delta)}`);
  // A status change is what the badge is for.
  await server.ctl(`/control/close?code=1012&channel=${ch}`);
  await until(() => page.evaluate((b) => RENDERS.badge > b, after.badge), "the badge renders on a status change");
  await context.close();
});

test("npx tabmux copy-worker puts the worker files in a folder, byte for byte", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "tabmux-site-")), "public");
  const bin = join(root, "www", "node_modules", ".bin", "tabmux");
  const r = spawnSync(bin, ["copy-worker", dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ["shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"]);
  for (const f of readdirSync(dir)) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(root, "dist", "worker", f))), f);
  const usage = spawnSync(bin, ["copy"], { encoding: "utf8" });
  assert.equal(usage.status, 2);
  assert.equal(usage.stderr.trim(), "usage: tabmux copy-worker <folder>   (e.g. public/)");
});

test("TabmuxProvider's token: a function is asked before the first connect (one handshake, with it); a string is the first token, a new one reconnects once, null signs out; a client closed by hand shows closed", async () => {
  await server.ctl("/control/reset");
  const context = await browser.newContext();
  const accepts = async (ch) => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch).map((a) => a.query);
  const get = await context.newPage();
  await get.goto(`${server.http}/auth.html?mode=get&channel=auth-get`);
  await until(async () => (await text(get, "state")) === "open", "open with the function's token");
  assert.deepEqual(await accepts("auth-get"), ["auth=1&token=g1"]);
  assert.equal(await get.evaluate(() => window.GETS), 1);

  const value = await context.newPage();
  await value.goto(`${server.http}/auth.html?mode=value&channel=auth-value`);
  await until(async () => (await text(value, "state")) === "open", "open with the string token");
  assert.deepEqual(await accepts("auth-value"), ["auth=1&token=first"]);
  await value.evaluate(() => window.setAppToken("second"));
  await until(async () => (await accepts("auth-value")).length === 2, "one reconnect with the new token");
  assert.deepEqual(await accepts("auth-value"), ["auth=1&token=first", "auth=1&token=second"]);
  await until(async () => (await text(value, "state")) === "open", "open again");
  await value.evaluate(() => window.setAppToken(null));
  await until(async () => (await text(value, "state")) === "unauthorized", "signed out");
  await value.evaluate(() => window.CLIENT.close());
  await until(async () => (await text(value, "state")) === "closed", "the hooks see their client closed");
  await sleep(300);
  assert.equal((await accepts("auth-value")).length, 2);
  await context.close();
});

test("TabmuxProvider's token set right after the first render (the client still connecting): the client is told it once connected, one handshake with it", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.http}/auth.html?mode=late&channel=auth-late`);
  await until(async () => (await text(page, "state")) === "open", "open with the token set late");
  const accepts = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === "auth-late").map((a) => a.query);
  assert.deepEqual(accepts, ["auth=1&token=late"]);
  await context.close();
});
