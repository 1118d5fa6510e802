// Frames that arrive while the worker is busy are posted to each tab together (one array per
// port), and each tab's listeners still get every frame once, in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, seqFrames } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

test("5,000 frames in a burst: fewer port messages than frames (batches), every frame once and in order in every listener", async () => {
  const ch = "burst";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const url = server.ws(`/ws/${ch}`);
  await page.evaluate((url) => T.connect({ url, heartbeat: false }), url);
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  // A second port of the same worker, read raw: what the worker posts.
  await page.evaluate((url) => {
    const w = new SharedWorker("/shared-websocket-worker.js", { name: WORKER_NAME });
    window.RAW = { w, events: 0, batches: 0, largest: 0, frames: [] };
    w.port.onmessage = ({ data }) => {
      if (typeof data === "object" && !Array.isArray(data)) return; // welcome, status
      RAW.events++;
      if (Array.isArray(data)) {
        RAW.batches++;
        RAW.largest = Math.max(RAW.largest, data.length);
        RAW.frames.push(...data);
      } else RAW.frames.push(data);
    };
    w.port.postMessage({ t: "hello", v: 1, tabId: "raw", build: BUILD, options: { url, heartbeat: false } });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=5000`);
  const want = seqFrames(firstSeq, firstSeq + 4999, ch);
  await until(() => page.evaluate(() => RAW.frames.length === 5000 && T.clients[0].messages.length === 5000), "5,000 frames in both", 60_000);
  const raw = await page.evaluate(() => ({ events: RAW.events, batches: RAW.batches, largest: RAW.largest, frames: RAW.frames }));
  console.log(`# 5,000 frames reached the raw port in ${raw.events} messages (${raw.batches} batches, the largest ${raw.largest} frames)`);
  assert.deepEqual(raw.frames, want);
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), want);
  assert.ok(raw.batches > 0 && raw.events < 5000, `batched: ${raw.events} messages for 5,000 frames`);
  await context.close();
});

test("1,000 sends in one task: every one written in order and acknowledged, in fewer messages than sends", async () => {
  const ch = "sends";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const url = server.ws(`/ws/${ch}`);
  await page.evaluate((url) => T.connect({ url, heartbeat: false }), url);
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  // A raw port of the same worker: what the worker answers.
  await page.evaluate((url) => {
    const w = new SharedWorker("/shared-websocket-worker.js", { name: WORKER_NAME });
    window.RAW = { w, events: 0, acked: [] };
    w.port.onmessage = ({ data }) => {
      const items = Array.isArray(data) ? data : [data];
      if (items.some((m) => m?.t === "sent")) RAW.events++;
      for (const m of items) if (m?.t === "sent") RAW.acked.push(m.id);
    };
    w.port.postMessage({ t: "hello", v: 1, tabId: "raw", build: BUILD, options: { url, heartbeat: false } });
  }, url);
  await until(() => page.evaluate(() => T.state(0)?.tabs === 2), "the raw port counted");
  await page.evaluate(() => {
    for (let i = 1; i <= 1000; i++) RAW.w.port.postMessage({ t: "send", id: i, data: `s${i}` });
  });
  await until(() => page.evaluate(() => RAW.acked.length === 1000), "1,000 acknowledgements", 30_000);
  const raw = await page.evaluate(() => ({ events: RAW.events, acked: RAW.acked }));
  console.log(`# 1,000 sends acknowledged in ${raw.events} messages`);
  assert.deepEqual(raw.acked, Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.ok(raw.events < 1000, `${raw.events} messages for 1,000 acknowledgements`);
  await until(async () => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).length === 1000, "1,000 frames at the server");
  assert.deepEqual((await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data), Array.from({ length: 1000 }, (_, i) => `s${i + 1}`));
  await context.close();
});
