// Hostile input and hostile servers, end to end, in Chromium: each gets a clear outcome for the
// tabs it concerns, and the other tabs keep receiving. A hostile page of the same origin against
// the worker's bounds runs in every engine: tests/engines/security.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { startServer, launchBrowser, openTab, until, sleep, seqFrames } from "./helpers.mjs";

let server, browser, stall;
const held = new Set();
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A server of ours that accepts TCP and never answers the WebSocket handshake.
  stall = createServer((sock) => {
    held.add(sock);
    sock.on("close", () => held.delete(sock));
  });
  await new Promise((r) => stall.listen(0, "127.0.0.1", r));
});
after(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => stall.close(r));
  await browser?.close();
  await server?.stop();
});

const accepts = async (ch) => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch);
const integrity = { dedup: { key: "/id" }, sequence: { key: "/seq" }, topics: { key: "/topic", subscribe: '{"s":"{topic}"}', unsubscribe: '{"u":"{topic}"}' } };

async function tabsOn(context, n, options) {
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await openTab(context, server));
  for (const p of pages) await p.evaluate((o) => T.connect(o), options);
  return pages;
}

test("binary frames, non-JSON text and a 16 MiB frame pass through with dedup, sequence and topics on", async () => {
  const ch = "odd";
  const context = await browser.newContext();
  const pages = await tabsOn(context, 2, { url: server.ws(`/ws/${ch}`), heartbeat: false, ...integrity });
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open");
  await server.ctl(`/control/broadcast?channel=${ch}&binary=true&n=2&size=1000`);
  await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent("{not json")}`);
  await server.ctl(`/control/broadcast?channel=${ch}&n=1&size=${16 << 20}`);
  for (const p of pages) {
    await until(() => p.evaluate(() => T.clients[0].messages.length === 4), "4 frames", 30_000);
    const got = await p.evaluate(() => T.clients[0].messages.map((m) => (typeof m === "string" ? (m.length > 100 ? m.length : m) : m)));
    assert.deepEqual(got.slice(0, 3), [{ binary: 1000 }, { binary: 1000 }, "{not json"]);
    assert.ok(got[3] >= 16 << 20, `16 MiB frame: ${got[3]}`);
    assert.deepEqual(await p.evaluate(() => T.clients[0].errors), []);
  }
  await context.close();
});

test("a server that accepts and closes at once for ever: backoff, no fast loop; other endpoints keep receiving", async () => {
  const context = await browser.newContext();
  const calm = await tabsOn(context, 1, { url: server.ws("/ws/calm"), heartbeat: false });
  await until(() => calm[0].evaluate(() => T.state(0)?.state === "open"), "calm open");
  await server.ctl("/control/slam?channel=slam&on=true");
  const [slammed] = await tabsOn(context, 1, { url: server.ws("/ws/slam"), heartbeat: false, backoff: { initialMs: 200, factor: 2, jitter: 0 } });
  await sleep(3000);
  const n = (await accepts("slam")).length;
  // Delays 200, 400 ms, never reset (no connection lasts minUptimeMs); each drop before
  // minUptimeMs is a failed attempt, so the third opens the breaker (30 s): 3 accepts.
  assert.ok(n >= 3 && n <= 5, `${n} accepts in 3 s`);
  const st = await slammed.evaluate(() => T.state(0));
  assert.equal(st.lastClose.code, 1011);
  assert.ok(st.attempt >= 3);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=calm&n=3");
  await until(() => calm[0].evaluate(() => T.clients[0].messages.length === 3), "calm frames");
  assert.deepEqual(await calm[0].evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 2, "calm"));
  await server.ctl("/control/slam?channel=slam&on=false");
  await context.close();
});

test("a server that never completes the handshake: the connect times out (4008) and is retried", async () => {
  const context = await browser.newContext();
  const url = `ws://127.0.0.1:${stall.address().port}/ws`;
  const [p] = await tabsOn(context, 1, { url, heartbeat: false, connectTimeoutMs: 400, backoff: { initialMs: 200, jitter: 0 } });
  await until(() => p.evaluate(() => T.clients[0].statuses.some((s) => s.lastClose?.code === 4008)), "a connect timeout", 5000);
  const st = await p.evaluate(() => T.clients[0].statuses.find((s) => s.lastClose?.code === 4008));
  assert.deepEqual(st.lastClose, { code: 4008, reason: "connect timeout" });
  assert.equal(st.state, "reconnecting");
  await until(() => p.evaluate(() => T.state(0).attempt >= 2), "a second attempt", 5000);
  await context.close();
});

const received = async (ch) => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data);
const topicOpts = { key: "/topic", subscribe: '{"s":"{topic}"}', unsubscribe: '{"u":"{topic}"}' };

/** Both tabs lose their worker; each must start a replacement on its own, say hello again,
 *  resubscribe its topic and tell its token again, and then receive as before. */
async function losesItsWorkerAndRecovers(ch, workerUrl, kill, lastError) {
  const context = await browser.newContext();
  const opts = { url: server.ws(`/ws/${ch}`), heartbeat: false, workerUrl, topics: topicOpts, token: { param: "tok" } };
  const pages = await tabsOn(context, 2, opts);
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open");
  await pages[0].evaluate(() => T.subscribe(0, "A"));
  await pages[1].evaluate(() => T.subscribe(0, "B"));
  await pages[0].evaluate(() => T.clients[0].c.setToken("t-1"));
  await until(async () => (await accepts(ch)).length === 2, "reconnected once for the token");
  await until(async () => (await received(ch)).length === 4, "2 subscribes, twice");
  // A send made the moment the loss is known (from the status listener) is refused at once.
  await pages[1].evaluate(() => {
    const rec = T.clients[0];
    rec.c.on("status", (s) => {
      if (!rec.during && s.state === "reconnecting" && /worker crashed/.test(s.lastError ?? "")) {
        rec.during = rec.c.send("during").then(() => "sent", (e) => e.code);
      }
    });
  });
  await kill(pages);
  for (const p of pages) {
    await until(() => p.evaluate(() => T.clients[0].statuses.some((s) => s.state === "reconnecting" && /^tabmux: the worker crashed: /.test(s.lastError))), "the loss in the status");
  }
  // No new connect(): each client replaces the worker and comes back by itself.
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open again");
  const st = await pages[0].evaluate(() => T.clients[0].statuses.find((s) => s.state === "reconnecting" && s.lastError));
  assert.match(st.lastError, lastError);
  await until(async () => (await received(ch)).length === 6, "resubscribed on the new worker");
  assert.deepEqual((await received(ch)).slice(4).sort(), ['{"s":"A"}', '{"s":"B"}']);
  // One socket from the new worker, carrying the token the tab had set (it came in the hello).
  await sleep(500);
  assert.deepEqual((await accepts(ch)).slice(2).map((a) => a.query), ["tok=t-1"]);
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=2`);
  for (const p of pages) {
    await until(() => p.evaluate(() => T.clients[0].messages.length === 2), "frames from the new worker");
    assert.deepEqual(await p.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 1, ch));
  }
  await server.ctl(`/control/broadcast?channel=${ch}&n=1&topic=A`);
  await until(() => pages[0].evaluate(() => T.clients[0].topics.A?.length === 1), "topic frame after the replacement");
  assert.equal(await pages[1].evaluate(() => T.clients[0].during), "worker-crashed");
  const sent = await pages[1].evaluate(() => T.clients[0].c.send("after").then(() => "ok", (e) => e.code));
  assert.equal(sent, "ok");
  await until(async () => (await received(ch)).includes("after"), "the send after the replacement reached the server");
  assert.ok(!(await received(ch)).includes("during"));
  await context.close();
}

test("a panic in the worker is reported to every tab, which start a replacement and carry on", async () => {
  const workerUrl = "/dist-test/worker/shared-websocket-worker.js";
  await losesItsWorkerAndRecovers("panic", workerUrl, async (pages) => {
    await pages[0].evaluate((url) => {
      const w = new SharedWorker(url, { name: WORKER_NAME, extendedLifetime: true });
      w.port.postMessage({ t: "panic" });
    }, workerUrl);
    for (const p of pages) {
      await until(() => p.evaluate(() => T.clients[0].errors.some((e) => e.code === "worker-crashed")), "the crash reported");
    }
  }, /^tabmux: the worker crashed: Uncaught RuntimeError: unreachable/);
});

test("a worker the browser ends without a word (as Android does under memory pressure) is noticed and replaced", async () => {
  await losesItsWorkerAndRecovers("killed", "/shared-websocket-worker.js", async (pages) => {
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send("Target.getTargets");
    const workers = targetInfos.filter((t) => t.type === "shared_worker" && t.url.endsWith("/shared-websocket-worker.js"));
    assert.equal(workers.length, 1, JSON.stringify(workers));
    await cdp.send("Target.closeTarget", { targetId: workers[0].targetId });
    await cdp.detach();
    // Told to the error listeners as well, once, although the worker said nothing.
    for (const p of pages) {
      await until(() => p.evaluate(() => T.clients[0].errors.some((e) => e.code === "worker-crashed")), "the loss reported");
      assert.deepEqual(await p.evaluate(() => T.clients[0].errors.map((e) => [e.code, e.message])), [
        ["worker-crashed", "tabmux: the worker crashed: the worker stopped (ended by the browser or crashed)"],
      ]);
    }
  }, /^tabmux: the worker crashed: the worker stopped/);
});
