// A worker that will not start, in mode "auto": the page falls back to direct mode. One test
// per way a worker fails (its script 404s, throws, its wasm does not compile, it never
// answers); in each the client says "direct", its first error listener hears `worker-failed`
// with the reason, and messages, topics and sends work on the page's own socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { withServerAndBrowser, openTab, until, seqFrames, root } from "./helpers.mjs";

// The real worker script and glue, with a wasm file that is not wasm: served at /badwasm/.
const served = mkdtempSync(join(tmpdir(), "tabmux-fallback-"));
mkdirSync(join(served, "badwasm"));
for (const f of ["shared-websocket-worker.js", "tabmux_worker.js"]) copyFileSync(join(root, "dist/worker", f), join(served, "badwasm", f));
writeFileSync(join(served, "badwasm", "tabmux_worker_bg.wasm"), "this is not wasm");
after(() => rmSync(served, { recursive: true, force: true }));

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]), {
  statics: [join(root, "tests/e2e/pages"), join(root, "dist/worker"), served, root],
});

const topics = { key: "/topic", subscribe: '{"s":"{topic}"}', unsubscribe: '{"u":"{topic}"}' };
const received = async (ch) => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data);

async function fallsBack(ch, extra, message) {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const started = Date.now();
  const info = await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), topics, heartbeat: false, ...extra });
  const took = Date.now() - started;
  assert.equal(info.transport, "direct");
  assert.equal(await page.evaluate(() => T.clients[0].c.transport), "direct");
  // The first error listener (added right after connect() resolved) heard why, once.
  const errors = await page.evaluate(() => T.clients[0].errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "worker-failed");
  assert.match(errors[0].message, message);
  // And the console said so.
  assert.ok(await page.evaluate(() => LOG.some((l) => l.level === "warn" && l.text.startsWith("tabmux: falling back to direct mode:"))));
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open on the page's own socket");
  assert.equal((await server.ctl("/control/stats")).byChannel[ch], 1);
  // Frames, a topic and a send on the direct socket.
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=3`);
  await until(() => page.evaluate(() => T.clients[0].messages.length === 3), "3 frames");
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 2, ch));
  await page.evaluate(() => T.subscribe(0, "A"));
  await until(async () => (await received(ch)).includes('{"s":"A"}'), "the subscribe frame at the server");
  await server.ctl(`/control/broadcast?channel=${ch}&n=1&topic=A`);
  await until(() => page.evaluate(() => T.clients[0].topics.A?.length === 1), "the topic frame");
  assert.equal(await page.evaluate(() => T.clients[0].c.send("after the fallback").then(() => "sent", (e) => e.code)), "sent");
  await until(async () => (await received(ch)).length === 2, "the send at the server");
  assert.deepEqual(await received(ch), ['{"s":"A"}', "after the fallback"]);
  // The direct module was fetched (a page in shared mode never fetches it).
  assert.ok((await server.ctl("/control/stats")).files.includes("/dist/direct/tabmux_direct_bg.wasm"));
  await context.close();
  await until(async () => !(await server.ctl("/control/stats")).byChannel[ch], "the socket closed with the tab");
  return took;
}

test("auto: a worker script that 404s falls back to direct mode", async () => {
  await fallsBack("fb-404", { workerUrl: "/no-such-worker.js" }, /^tabmux: the shared worker script at \/no-such-worker\.js failed to load or run$/);
});

test("auto: a worker script that throws as it starts falls back to direct mode", async () => {
  await fallsBack("fb-throws", { workerUrl: "/broken/throws.js", workerTimeoutMs: 2000 }, /^tabmux: the shared worker script at \/broken\/throws\.js failed to load or run$/);
});

test("auto: a worker whose wasm does not compile falls back to direct mode", async () => {
  await fallsBack("fb-wasm", { workerUrl: "/badwasm/shared-websocket-worker.js" }, /^tabmux: the worker could not load its wasm: .*WebAssembly/);
});

test("auto: a worker that never answers the hello falls back after workerTimeoutMs", async () => {
  const took = await fallsBack("fb-silent", { workerUrl: "/broken/silent.js", workerTimeoutMs: 1000 }, /^tabmux: the shared worker at \/broken\/silent\.js did not answer within 1000 ms$/);
  assert.ok(took >= 1000 && took < 5000, `connect() took ${took} ms`);
});

test("shared: each of these failures rejects connect() with worker-failed, opens no socket, fetches no direct module", async () => {
  await server.ctl("/control/reset");
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const cases = [
    ["/no-such-worker.js", /failed to load or run$/],
    ["/badwasm/shared-websocket-worker.js", /^tabmux: the worker could not load its wasm: /],
    ["/broken/silent.js", /did not answer within 500 ms$/],
  ];
  for (const [workerUrl, message] of cases) {
    const err = await page.evaluate((o) => T.connectError(o), { url: server.ws("/ws/fb-shared"), mode: "shared", workerUrl, workerTimeoutMs: 500 });
    assert.equal(err?.code, "worker-failed", workerUrl);
    assert.match(err.message, message);
  }
  assert.equal((await server.ctl("/control/stats")).byChannel["fb-shared"], undefined);
  assert.ok(!(await server.ctl("/control/stats")).files.includes("/dist/direct/tabmux_direct_bg.wasm"));
  await context.close();
});
