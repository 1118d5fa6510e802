// Message integrity and multiplexing end to end: dedup, gaps and resume, topics with
// ref-counts, the send queue, dead tabs, versioned workers, and a soak with memory samples.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

async function tabs(n, options, context, extra) {
  context ??= await browser.newContext();
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await openTab(context, server));
  for (const p of pages) await p.evaluate(([o, x]) => T.connect(o, x), [options, extra]);
  for (const p of pages) await until(() => p.evaluate((n) => T.state(0)?.state === "open" && T.state(0).tabs >= 1, n), "open");
  return { context, pages };
}
const stats = () => server.ctl("/control/stats");
const received = async (ch) => (await stats()).received.filter((r) => r.channel === ch).map((r) => r.data);
const accepts = async (ch) => (await stats()).accepts.filter((a) => a.channel === ch);
const topicsOpt = { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' };

test("the server sends the same id twice: each tab gets it once", async () => {
  const ch = "dedup";
  const { context, pages } = await tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false, dedup: { key: ["/meta/in_reply_to", "/id"] } });
  for (const text of ['{"id":"a","n":1}', '{"id":"a","n":2}', '{"meta":{"in_reply_to":"q1"},"id":"b"}', '{"meta":{"in_reply_to":"q1"},"id":"c"}', '{"id":"d"}', "not json"]) {
    await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent(text)}`);
  }
  for (const p of pages) {
    await until(() => p.evaluate(() => T.clients[0].messages.length >= 4), "4 frames");
    await sleep(150);
    assert.deepEqual(await p.evaluate(() => T.clients[0].messages), ['{"id":"a","n":1}', '{"meta":{"in_reply_to":"q1"},"id":"b"}', '{"id":"d"}', "not json"]);
  }
  assert.equal((await pages[0].evaluate(() => T.clients[0].c.stats())).duplicates, 2);
  await context.close();
});

test("skipped sequence numbers: one gap event per tab; after a reconnect the server sees since=<last>", async () => {
  const ch = "seq";
  const { context, pages } = await tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false, sequence: { key: "/seq" }, backoff: { initialMs: 50 } });
  const first = (await server.ctl(`/control/broadcast?channel=${ch}&n=3`)).firstSeq;
  const second = (await server.ctl(`/control/broadcast?channel=${ch}&n=2&skip=4`)).firstSeq;
  assert.equal(second, first + 7);
  for (const p of pages) {
    await until(() => p.evaluate(() => T.clients[0].messages.length === 5), "5 frames");
    await sleep(100);
    assert.deepEqual(await p.evaluate(() => T.clients[0].gaps), [{ from: first + 3, to: first + 6 }]);
  }
  await server.ctl(`/control/close?channel=${ch}&code=1012`);
  await until(async () => (await accepts(ch)).length === 2, "reconnect");
  assert.equal((await accepts(ch))[1].query, `since=${second + 1}`);
  await context.close();
});

test("topics: one subscribe per topic for the browser, frames only to subscribers, resubscribe on reconnect, one unsubscribe", async () => {
  const ch = "topics";
  const { context, pages } = await tabs(4, { url: server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt, backoff: { initialMs: 50 } });
  for (const p of pages.slice(0, 3)) await p.evaluate(() => T.subscribe(0, "A"));
  await pages[3].evaluate(() => T.subscribe(0, "B"));
  const sub = (t) => `{"type":"subscribe","topic":"${t}"}`;
  const unsub = (t) => `{"type":"unsubscribe","topic":"${t}"}`;
  await until(async () => (await received(ch)).length === 2, "2 subscribe frames");
  await sleep(200);
  assert.deepEqual((await received(ch)).sort(), [sub("A"), sub("B")]);
  await server.ctl(`/control/broadcast?channel=${ch}&n=2&topic=A`);
  await server.ctl(`/control/broadcast?channel=${ch}&n=1&topic=B`);
  await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  for (const p of pages) await until(() => p.evaluate(() => T.clients[0].messages.length === 1), "the untopic'd frame everywhere");
  await sleep(150);
  for (const p of pages.slice(0, 3)) {
    assert.equal(await p.evaluate(() => T.clients[0].topics.A.length), 2);
    assert.equal(await p.evaluate(() => T.clients[0].topics.B), undefined);
  }
  assert.equal(await pages[3].evaluate(() => T.clients[0].topics.B.length), 1);
  assert.equal(await pages[3].evaluate(() => T.clients[0].topics.A), undefined);
  // Reconnect: both subscribed again.
  await server.ctl(`/control/close?channel=${ch}&code=1012`);
  await until(async () => (await received(ch)).length === 4, "resubscribed");
  assert.deepEqual((await received(ch)).slice(2).sort(), [sub("A"), sub("B")]);
  // The A tabs leave: an unsubscribe, a goodbye, and the last one out → one unsubscribe frame.
  await pages[0].evaluate(() => T.unsubscribe(0, "A"));
  await pages[1].close();
  await sleep(300);
  assert.equal((await received(ch)).length, 4);
  await pages[2].close();
  await until(async () => (await received(ch)).length === 5, "one unsubscribe");
  assert.equal((await received(ch))[4], unsub("A"));
  await context.close();
});

test("sends while the server is down arrive in order once it returns; an overflowing queue rejects", async () => {
  const ch = "queue";
  const { context, pages } = await tabs(2, { url: server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 100, maxMs: 200, jitter: 0 }, breaker: { failureThreshold: 100 }, queue: { maxMessages: 6 } });
  await server.ctl("/control/pause?ms=4000&drop=true");
  await until(() => pages[0].evaluate(() => T.state(0).state !== "open"), "down");
  const queued = () => pages[0].evaluate(async () => (await T.clients[0].c.stats()).queueMessages);
  // Tab 1 sends q0..q2, then tab 2 sends q3..q5; each send's promise is kept in the page.
  const sent = ["q0", "q1", "q2", "q3", "q4", "q5"];
  await pages[0].evaluate((ts) => { T.pending = ts.map((t) => T.clients[0].c.send(t).then(() => "sent", (e) => e.code)); }, sent.slice(0, 3));
  await until(async () => (await queued()) === 3, "3 queued");
  await pages[1].evaluate((ts) => { T.pending = ts.map((t) => T.clients[0].c.send(t).then(() => "sent", (e) => e.code)); }, sent.slice(3));
  await until(async () => (await queued()) === 6, "6 queued");
  // The seventh does not fit.
  const overflow = await pages[0].evaluate(() => T.clients[0].c.send("q6").then(() => "sent", (e) => ({ code: e.code, message: e.message })));
  assert.deepEqual(overflow, { code: "queue-full", message: "tabmux: the send queue is full (6 frames waiting, queue.maxMessages is 6); the frame was not sent" });
  const promises = [pages[0].evaluate(() => Promise.all(T.pending)), pages[1].evaluate(() => Promise.all(T.pending))];
  assert.deepEqual((await Promise.all(promises)).flat(), ["sent", "sent", "sent", "sent", "sent", "sent"]);
  assert.deepEqual(await received(ch), sent);
  await context.close();
});

test("a tab killed without a goodbye is dropped and its topics released (Web Locks)", async () => {
  const ch = "crash";
  const { context, pages } = await tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt });
  await pages[2].evaluate(() => T.subscribe(0, "only-mine"));
  await until(async () => (await received(ch)).length === 1, "subscribed");
  await until(() => pages[0].evaluate(() => T.state(0).tabs === 3), "3 tabs");
  const cdp = await context.newCDPSession(pages[2]);
  const t0 = Date.now();
  cdp.send("Page.crash").catch(() => {});
  await until(() => pages[0].evaluate(() => T.state(0).tabs === 2), "the crashed tab dropped", 5000);
  const took = Date.now() - t0;
  await until(async () => (await received(ch)).length === 2, "topic released");
  assert.equal((await received(ch))[1], '{"type":"unsubscribe","topic":"only-mine"}');
  assert.ok(took < 5000, `dropped after ${took} ms`);
  console.log(`# dead tab dropped after ${took} ms`);
  await context.close();
});

test("a page naming another protocol version gets its own worker", async () => {
  const ch = "version";
  const { context, pages } = await tabs(1, { url: server.ws(`/ws/${ch}`), heartbeat: false });
  const other = await openTab(context, server);
  const replies = await other.evaluate(async (url) => {
    const got = [];
    const port = () => {
      const w = new SharedWorker("/shared-websocket-worker.js", { name: "tabmux-v2" });
      w.port.onmessage = (e) => got.push(e.data);
      return w;
    };
    // The refused hello's port is closed; the page tries again on a new port of that worker.
    const first = port();
    first.port.postMessage({ t: "hello", v: 2, tabId: "future", options: { url } });
    for (const end = Date.now() + 10_000; got.length === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    const w = port();
    w.port.postMessage({ t: "hello", v: 1, build: BUILD, tabId: "future", options: { url, heartbeat: false } });
    const deadline = Date.now() + 10_000;
    while (got.filter((m) => m.t === "status" && m.status.state === "open").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return got.map((m) => m.code ?? m.t);
  }, server.ws(`/ws/${ch}`));
  assert.equal(replies[0], "version-mismatch");
  assert.ok(replies.includes("welcome"));
  // A different worker instance: its own socket, and the first tab's worker still counts 1 tab.
  assert.equal((await stats()).byChannel[ch], 2);
  assert.equal(await pages[0].evaluate(() => T.state(0).tabs), 1);
  await context.close();
});

test("soak: 200,000 frames through 4 tabs with dedup, sequence and topics on; worker memory flat after warm-up", async () => {
  const ch = "soak";
  const options = { url: server.ws(`/ws/${ch}`), heartbeat: false, dedup: { key: "/seq" }, sequence: { key: "/seq" }, topics: topicsOpt };
  const { context, pages } = await tabs(4, options, undefined, { countOnly: true });
  for (const p of pages) await p.evaluate(() => T.subscribe(0, "A", { countOnly: true }));
  await until(async () => (await received(ch)).length === 1, "subscribed");
  const total = 200_000;
  const chunk = 20_000;
  const samples = [];
  const t0 = Date.now();
  for (let sent = 0; sent < total; sent += chunk) {
    await server.ctl(`/control/broadcast?channel=${ch}&n=${chunk / 2}&size=200&topic=A`);
    await server.ctl(`/control/broadcast?channel=${ch}&n=${chunk / 2}&size=200`);
    for (const p of pages) await until(() => p.evaluate((n) => T.clients[0].count >= n, sent + chunk), `${sent + chunk} frames`, 60_000);
    samples.push((await pages[0].evaluate(() => T.clients[0].c.stats())).memoryBytes);
  }
  const secs = (Date.now() - t0) / 1000;
  await sleep(200);
  for (const p of pages) assert.equal(await p.evaluate(() => T.clients[0].count), total);
  const st = await pages[0].evaluate(() => T.clients[0].c.stats());
  assert.equal(st.framesIn, total);
  assert.equal(st.duplicates, 0);
  assert.equal(st.gaps, 0);
  assert.equal(st.dedupKeys, 200);
  console.log(`# soak: ${total} frames × 4 tabs in ${secs.toFixed(1)} s; worker memory samples (bytes): ${samples.join(" ")}`);
  // Warm-up: the first two chunks. After that the wasm memory must not grow.
  assert.ok(samples.slice(2).every((m) => m === samples[2]), `memory grew after warm-up: ${samples}`);
  await context.close();
});
