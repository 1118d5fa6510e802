// A tab that stops handling frames (busy, or frozen in the background) is posted at most the backlog's
// bound (tabmux_core::backlog: 10,240 frames), the other tabs are not affected, and once it
// has caught up it is told how many frames it missed (an `error` event, code "lagged").
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep, seqFrames } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const BOUND = 40 * 256;

test("a tab busy for 10 s is posted 10,240 frames while the other gets all 15,000; then it is told it missed 4,760 and receives again", async () => {
  const ch = "frozen";
  const context = await browser.newContext();
  const pages = [await openTab(context, server), await openTab(context, server)];
  for (const p of pages) await p.evaluate((url) => T.connect({ url, heartbeat: false }), server.ws(`/ws/${ch}`));
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open" && T.state(0).tabs === 2), "open, 2 tabs");
  const [a, b] = pages;
  // The tab is busy for 10 s, longer than the burst takes on a loaded machine (a tab that
  // catches up before it ends gets its tail: the engine suite allows that; here the count is
  // exact). Its main thread is blocked, as a long task or a frozen tab
  // would leave it: nothing it is posted meanwhile is handled. (Chromium's DevTools
  // freeze, Page.setWebLifecycleState, still let the port's messages through: tried.)
  const busy = b.evaluate(() => {
    const end = Date.now() + 10_000;
    while (Date.now() < end);
  });
  await sleep(200);
  const t0 = Date.now();
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=15000`);
  await until(() => a.evaluate(() => T.clients[0].messages.length === 15000), "every frame in the running tab", 60_000);
  console.log(`# the running tab had all 15,000 frames after ${Date.now() - t0} ms`);
  assert.deepEqual(await a.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 14999, ch));
  await busy;
  await until(() => b.evaluate(() => T.clients[0].errors.length === 1), "the lag told", 30_000);
  const got = await b.evaluate(() => ({ messages: T.clients[0].messages, errors: T.clients[0].errors }));
  assert.deepEqual(got.errors, [
    {
      code: "lagged",
      message: "tabmux: this tab stopped handling frames (frozen in the background, or busy) and fell too far behind: 4760 frames were not delivered to it; it receives again from here",
    },
  ]);
  assert.deepEqual(got.messages, seqFrames(firstSeq, firstSeq + BOUND - 1, ch));
  assert.equal(await b.evaluate(() => T.state(0).state), "open");
  // From here it receives every frame again, as does the other tab.
  const next = (await server.ctl(`/control/broadcast?channel=${ch}&n=5`)).firstSeq;
  assert.equal(next, firstSeq + 15000);
  await until(() => b.evaluate((n) => T.clients[0].messages.length === n, BOUND + 5), "5 more frames");
  assert.deepEqual((await b.evaluate(() => T.clients[0].messages)).slice(BOUND), seqFrames(next, next + 4, ch));
  await until(() => a.evaluate(() => T.clients[0].messages.length === 15005), "5 more frames in the other tab");
  await context.close();
});

test("impossible drained reports get a bad-message error on their own port only; the tabs keep receiving", async () => {
  const ch = "bad-drained";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const url = server.ws(`/ws/${ch}`);
  await page.evaluate((url) => T.connect({ url, heartbeat: false }), url);
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  const errors = await page.evaluate(async (url) => {
    const got = [];
    const w = T.raw(url, (data) => data?.t === "error" && got.push(data.message));
    for (const m of [{ t: "drained", n: 7 }, { t: "drained", n: 256 }, { t: "drained" }, { t: "drained", n: "256" }]) w.port.postMessage(m);
    await new Promise((resolve) => setTimeout(resolve, 500));
    w.port.postMessage({ t: "bye" });
    return got;
  }, url);
  assert.deepEqual(errors, [
    "tabmux: bad message to the worker: drained must be a multiple of 256 above the last report (0) and at most the frames posted (0); got 7",
    "tabmux: bad message to the worker: drained must be a multiple of 256 above the last report (0) and at most the frames posted (0); got 256",
    "tabmux: bad message to the worker: drained's n must be an integer",
    "tabmux: bad message to the worker: drained's n must be an integer",
  ]);
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=3`);
  await until(() => page.evaluate(() => T.clients[0].messages.length === 3), "3 frames");
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 2, ch));
  assert.deepEqual(await page.evaluate(() => T.clients[0].errors), []);
  await context.close();
});
