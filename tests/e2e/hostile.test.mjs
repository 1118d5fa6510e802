// Hostile input and hostile servers, end to end: each gets a clear outcome for the tabs it
// concerns, and the other tabs keep receiving.
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

// ---------------------------------------------------------------------------------------------
// A hostile page of the same origin, against the worker's bounds (docs/internals/hardening.md,
// "Memory bounds"). The tabs use the test worker (its `{ t: "counts" }` hook says what it
// holds); the hostile page talks to the same worker through raw ports.

const TEST_WORKER = "/dist-test/worker/shared-websocket-worker.js";

/** In a page: helpers to open raw ports of the test worker and read what they get. */
const RAW_HELPERS = ({ workerUrl, counterUrl }) => {
  window.H = {
    ports: [],
    /** A new port; `got` collects what the worker posts to it. */
    open() {
      const w = new SharedWorker(workerUrl, { name: WORKER_NAME, extendedLifetime: true });
      const p = { w, got: [] };
      w.port.onmessage = ({ data }) => (Array.isArray(data) ? p.got.push(...data) : p.got.push(data));
      H.ports.push(p);
      return H.ports.length - 1;
    },
    post(i, m) {
      H.ports[i].w.port.postMessage(m);
    },
    hello(i, url, extra = {}) {
      H.post(i, { t: "hello", v: 1, tabId: `evil-${i}`, build: BUILD, options: { url, heartbeat: false, ...extra } });
    },
    got: (i) => H.ports[i].got.map((m) => (typeof m === "object" && m !== null ? { t: m.t, code: m.code, message: m.message, id: m.id } : m)),
    async until(cond, ms = 10_000) {
      const end = Date.now() + ms;
      while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      return cond();
    },
    /** What the worker holds, asked on an attached port of its own (on another channel),
     *  which is left out of the counts. */
    async counts() {
      if (H.counter === undefined) {
        H.counter = H.open();
        H.hello(H.counter, counterUrl);
        await H.until(() => H.ports[H.counter].got.some((m) => m.t === "welcome"));
      }
      const got = H.ports[H.counter].got;
      const from = got.length;
      H.post(H.counter, { t: "counts" });
      await H.until(() => got.slice(from).some((m) => m.t === "counts"));
      const c = got.slice(from).find((m) => m.t === "counts");
      return { ports: c.ports - 1, pending: c.pending, clients: c.clients - 1, memoryBytes: c.memoryBytes };
    },
  };
};

/** Two tabs on `/ws/<ch>` through the test worker, open, and a third page for the hostile
 *  ports (with the helpers). */
async function goodTabsAndEvil(ch) {
  const context = await browser.newContext();
  const good = await tabsOn(context, 2, { url: server.ws(`/ws/${ch}`), heartbeat: false, workerUrl: TEST_WORKER });
  for (const p of good) await until(() => p.evaluate(() => T.state(0)?.state === "open" && T.state(0).tabs === 2), "open, 2 tabs");
  const evil = await openTab(context, server);
  await evil.evaluate(RAW_HELPERS, { workerUrl: TEST_WORKER, counterUrl: server.ws("/ws/counter") });
  return { context, good, evil };
}

/** Every good tab gets the next `n` frames of `ch`, in order, and no error. */
async function stillReceiving(good, ch, n = 5) {
  const before = await Promise.all(good.map((p) => p.evaluate(() => T.clients[0].messages.length)));
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=${n}`);
  for (const [i, p] of good.entries()) {
    await until(() => p.evaluate((m) => T.clients[0].messages.length >= m, before[i] + n), `${n} more frames`);
    assert.deepEqual((await p.evaluate(() => T.clients[0].messages)).slice(before[i]), seqFrames(firstSeq, firstSeq + n - 1, ch));
    assert.deepEqual(await p.evaluate(() => T.clients[0].errors), []);
  }
}

test("before its hello a port may not say anything but hello: every other message is refused not-attached and changes nothing", async () => {
  const ch = "unattached";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const before = (await server.ctl("/control/stats")).received.length;
  const replies = await evil.evaluate(async () => {
    const i = H.open();
    const all = [{ t: "online", online: false }, { t: "visible" }, { t: "stats", id: 1 }, { t: "history", id: 2 }, { t: "subscribe", topic: "a" }, { t: "unsubscribe", topic: "a" }, { t: "token", token: "stolen" }, { t: "reconnect" }, { t: "send", id: 3, data: "x" }, { t: "drained", n: 256 }, { t: "lock", lock: "l" }, "a frame"];
    for (const m of all) H.post(i, m);
    await H.until(() => H.got(i).length === all.length);
    return H.got(i);
  });
  assert.deepEqual(replies.map((r) => [r.code, r.id]), Array(12).fill(["not-attached", null]));
  assert.equal(replies[0].message, "tabmux: the first message on a port must be a hello");
  // The engine never heard them: still online, no reconnect, nothing sent to the server.
  await sleep(300);
  for (const p of good) assert.deepEqual(await p.evaluate(() => [T.state(0).online, T.state(0).state, T.clients[0].statuses.filter((s) => !s.online).length]), [true, "open", 0]);
  assert.equal((await accepts(ch)).length, 1);
  assert.equal((await server.ctl("/control/stats")).received.length, before);
  await stillReceiving(good, ch);
  await context.close();
});

test("no tab decides the network alone: a tab that reports offline (lying or not) and then closes leaves every tab online", async () => {
  const ch = "lying";
  const { context, good } = await goodTabsAndEvil(ch);
  // The page's own offline event, as a tab whose browser says so: forwarded to the worker,
  // whose own navigator.onLine says online.
  await good[0].evaluate(() => dispatchEvent(new Event("offline")));
  await sleep(1500); // past the worker's second look at navigator.onLine (1 s)
  for (const p of good) assert.deepEqual(await p.evaluate(() => [T.state(0).online, T.clients[0].statuses.filter((s) => !s.online).length]), [true, 0]);
  await good[0].close();
  await until(() => good[1].evaluate(() => T.state(0).tabs === 1), "one tab left");
  assert.equal(await good[1].evaluate(() => T.state(0).online), true);
  // A socket lost now is retried at once (offline would wait for the network).
  await server.ctl(`/control/close?channel=${ch}&code=1012`);
  await until(async () => (await accepts(ch)).length === 2, "reconnected");
  await stillReceiving([good[1]], ch);
  await context.close();
});

test("a port that never says hello is closed after 10 s, and one whose hello is refused at once", async () => {
  const ch = "silent";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const t0 = Date.now();
  const first = await evil.evaluate(async (url) => {
    for (let i = 0; i < 5; i++) H.open();
    // Refused hellos: bad options, another protocol version, another release, unreadable.
    const refused = [{ t: "hello", v: 1, build: BUILD, tabId: "x", options: { url: 5 } }, { t: "hello", v: 2, tabId: "x", options: { url } }, { t: "hello", v: 1, build: "other", tabId: "x", options: { url } }, { t: "hello" }];
    const idx = refused.map((m) => {
      const i = H.open();
      H.post(i, m);
      return i;
    });
    await H.until(() => idx.every((i) => H.got(i).length === 1));
    // Anything after a refused hello reaches no one: the port is closed.
    for (const i of idx) H.post(i, { t: "stats", id: 9 });
    await new Promise((r) => setTimeout(r, 300));
    return { refused: idx.map((i) => H.got(i).map((m) => m.code)), counts: await H.counts() };
  }, server.ws(`/ws/${ch}`));
  assert.deepEqual(first.refused, [["invalid-options"], ["version-mismatch"], ["worker-failed"], ["bad-message"]]);
  assert.deepEqual([first.counts.pending, first.counts.clients], [5, 2]);
  // 10 s after they connected, the silent ones are told and closed.
  const later = await evil.evaluate(async () => {
    await H.until(() => [0, 1, 2, 3, 4].every((i) => H.got(i).length === 1), 15_000);
    return { got: [0, 1, 2, 3, 4].map((i) => H.got(i).map((m) => m.code)), counts: await H.counts() };
  });
  const took = Date.now() - t0;
  assert.deepEqual(later.got, Array(5).fill(["not-attached"]));
  assert.deepEqual([later.counts.pending, later.counts.ports, later.counts.clients], [0, 2, 2]);
  assert.ok(took >= 9_500 && took < 14_000, `closed after ${took} ms`);
  await stillReceiving(good, ch);
  await context.close();
});

test("10,000 ports: those past 1024 without a hello are refused too-many-ports; the worker's memory stays under 2 MiB and the tabs keep receiving", async () => {
  const ch = "ports";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const memBefore = (await evil.evaluate(() => H.counts())).memoryBytes;
  const n = 10_000;
  const t0 = Date.now();
  const got = await evil.evaluate(async (n) => {
    const idx = [];
    for (let i = 0; i < n; i++) idx.push(H.open());
    await H.until(() => idx.filter((i) => H.got(i).length > 0).length >= n - 1024, 60_000);
    const refused = idx.filter((i) => H.got(i).length > 0);
    return { refused: refused.length, codes: [...new Set(refused.flatMap((i) => H.got(i).map((m) => m.code)))], message: H.got(refused[0])[0].message, counts: await H.counts() };
  }, n);
  console.log(`# ${n} ports opened in ${Date.now() - t0} ms; worker wasm memory ${memBefore} -> ${got.counts.memoryBytes} B`);
  assert.equal(got.refused, n - 1024);
  assert.deepEqual([got.counts.pending, got.counts.clients], [1024, 2]);
  assert.ok(got.counts.memoryBytes < 2 << 20, `worker wasm memory ${got.counts.memoryBytes} B`);
  assert.deepEqual(got.codes, ["too-many-ports"]);
  assert.equal(got.message, "tabmux: 1024 ports of this worker have not said hello yet; this one is closed");
  await stillReceiving(good, ch);
  await context.close();
});

test("past 64 endpoints a hello for a new URL is refused too-many-endpoints and its port closed; the tabs keep receiving", async () => {
  const ch = "endpoints";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const url = (i) => server.ws(`/ws/ep-${i}`);
  // The tabs' endpoint, the counting port's, and 62 more: 64.
  const got = await evil.evaluate(async (urls) => {
    await H.counts();
    const idx = urls.map((u) => {
      const i = H.open();
      H.hello(i, u);
      return i;
    });
    await H.until(() => idx.every((i) => H.got(i).length > 0), 20_000);
    const last = idx.at(-1);
    // The refused port is closed: a stats request on it reaches no one.
    H.post(last, { t: "stats", id: 1 });
    await new Promise((r) => setTimeout(r, 300));
    return { firsts: idx.map((i) => H.got(i)[0].t ?? H.got(i)[0].code), last: H.got(last), counts: await H.counts() };
  }, Array.from({ length: 63 }, (_, i) => url(i)));
  assert.deepEqual(got.firsts, [...Array(62).fill("welcome"), "error"]);
  assert.deepEqual(got.last, [{ t: "error", code: "too-many-endpoints", id: null, message: "tabmux: this worker already holds 64 endpoints (URLs with their subprotocols), each with a client; a new URL waits until one of them is left" }]);
  assert.deepEqual([got.counts.clients, got.counts.pending], [2 + 62, 0]);
  await stillReceiving(good, ch);
  // Once one leaves (its endpoint closes at once with idleCloseMs 0... here the default 5 s
  // keeps it, so a new URL takes the place of that idle one), a new URL is accepted.
  const again = await evil.evaluate(async (u) => {
    H.post(1, { t: "bye" });
    await new Promise((r) => setTimeout(r, 100));
    const i = H.open();
    H.hello(i, u);
    await H.until(() => H.got(i).length > 0);
    return H.got(i)[0].t;
  }, url(999));
  assert.equal(again, "welcome");
  await context.close();
});

test("history and stats floods: past 20 a second per port the rest are refused too-many-requests; other tabs' requests are answered", async () => {
  const ch = "requests";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const got = await evil.evaluate(async (url) => {
    const i = H.open();
    H.hello(i, url, { replay: { frames: 100 } });
    await H.until(() => H.got(i).some((m) => m.t === "welcome"));
    const from = H.got(i).length;
    for (let k = 1; k <= 100; k++) H.post(i, k % 2 ? { t: "stats", id: k } : { t: "history", id: k });
    await H.until(() => H.got(i).slice(from).filter((m) => m.id).length === 100);
    return H.got(i).slice(from).filter((m) => m.id);
  }, server.ws(`/ws/${ch}`));
  const answered = got.filter((m) => m.t !== "error");
  const refused = got.filter((m) => m.t === "error");
  assert.deepEqual(answered.map((m) => m.id), Array.from({ length: 20 }, (_, k) => k + 1));
  assert.deepEqual(new Set(refused.map((m) => m.code)), new Set(["too-many-requests"]));
  assert.equal(refused.length, 80);
  assert.equal(refused[0].message, "tabmux: too many history and stats requests from this client: at most 20 in 1000 ms; this one was refused");
  // The other tabs' budgets are their own.
  for (const p of good) assert.equal(typeof (await p.evaluate(() => T.clients[0].c.stats())).framesIn, "number");
  await stillReceiving(good, ch);
  await context.close();
});

test("100 MB strings in port messages are refused from their length, never copied into the worker's wasm memory", async () => {
  const ch = "strings";
  const { context, good, evil } = await goodTabsAndEvil(ch);
  const got = await evil.evaluate(async (url) => {
    const before = (await H.counts()).memoryBytes;
    const huge = "y".repeat(100 << 20);
    const attached = H.open();
    H.hello(attached, url);
    await H.until(() => H.got(attached).some((m) => m.t === "welcome"));
    const from = H.got(attached).length;
    for (const m of [{ t: huge }, { t: "subscribe", topic: huge }, { t: "unsubscribe", topic: huge }, { t: "history", id: 1, topic: huge }, { t: "token", token: huge }, { t: "lock", lock: huge }]) H.post(attached, m);
    await H.until(() => H.got(attached).length - from === 6, 30_000);
    // Hellos with a huge field, each on a port of its own (refused: closed).
    const hellos = ["tabId", "build", "token", "lock"].map((k) => {
      const i = H.open();
      H.post(i, { t: "hello", v: 1, build: BUILD, tabId: "x", options: { url }, [k]: huge });
      return i;
    });
    const opts = H.open();
    H.post(opts, { t: "hello", v: 1, build: BUILD, tabId: "x", options: { url: `${url}?${huge}` } });
    await H.until(() => [...hellos, opts].every((i) => H.got(i).length === 1), 30_000);
    const after = (await H.counts()).memoryBytes;
    return { attached: H.got(attached).slice(from).map((m) => m.message), hellos: [...hellos, opts].map((i) => H.got(i)[0].message), before, after };
  }, server.ws(`/ws/${ch}`));
  const bad = "tabmux: bad message to the worker: ";
  assert.deepEqual(got.attached, [
    `${bad}the object has no "t" field naming a message type`,
    `${bad}subscribe needs a "topic" string of at most 256 characters`,
    `${bad}unsubscribe needs a "topic" string of at most 256 characters`,
    `${bad}history's topic must be a string of at most 256 characters`,
    `${bad}token needs a "token" string of at most 8192 characters`,
    `${bad}lock's lock must be a string of 1 to 128 characters`,
  ]);
  assert.deepEqual(got.hellos, [
    `${bad}hello's tabId must be a string of 1 to 64 characters`,
    `${bad}hello's build must be a string of 1 to 64 characters`,
    `${bad}hello's token must be a string of at most 8192 characters`,
    `${bad}hello's lock must be a string of 1 to 128 characters`,
    "tabmux: invalid options: url: expected a string, got a value too large (a string over 16384 characters, or over 256 keys or items)",
  ]);
  assert.equal(got.after, got.before, "the worker's wasm memory did not grow");
  await stillReceiving(good, ch);
  await context.close();
});
