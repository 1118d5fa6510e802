// The consumer's contract with tabmux, beyond the fault scenarios: bad tokens, garbage
// frames, topics mapped onto channel-layer groups, and an idle socket that stays open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs } from "./tabs.mjs";
import { until, PUBLISH_KEY } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

const topics = { key: "/topic", subscribe: '{"op":"sub","topic":"{topic}"}', unsubscribe: '{"op":"unsub","topic":"{topic}"}' };

test("a forged token is closed with 4401; garbage frames get error frames and the socket lives on", { timeout: 30_000 }, async () => {
  const { context, pages } = await openTabs(stack, browser, 1, feedOptions(stack, "contract"));
  const page = pages[0];
  const url = (t) => `ws://127.0.0.1:${stack.nginxPort}/ws/contract?token=${encodeURIComponent(t)}`;
  assert.deepEqual(await page.evaluate(([u]) => P.raw(u, [], 1), [url("forged:token")]), { got: [], open: false, code: 4401 });
  const token = await page.evaluate(() => P.token());
  // A poll while the token has more than half its life left gets the same token: no reconnect.
  assert.equal(await page.evaluate(() => P.token()), token);
  const garbage = ["not json", "[1,2]", '{"op":"sub","topic":"no spaces allowed"}', '{"op":"sub","topic":7}', '{"op":"dance"}', { binary: 3 }, "", '{"type":"ping"}'];
  const r = await page.evaluate(([u, g]) => P.raw(u, g, 8), [url(token), garbage]);
  assert.deepEqual(r.got.map((f) => JSON.parse(f)), [
    { type: "error", error: "not JSON" },
    { type: "error", error: "expected a JSON object" },
    { type: "error", error: "a topic is 1-40 characters of A-Z a-z 0-9 _ . -" },
    { type: "error", error: "a topic is 1-40 characters of A-Z a-z 0-9 _ . -" },
    { type: "error", error: 'expected {"type":"ping"} or {"op":"sub"|"unsub","topic":…}' },
    { type: "error", error: "binary frames are not understood" },
    { type: "error", error: "not JSON" },
    { type: "pong" },
  ]);
  assert.equal(r.open, true);
  await context.close();
});

test("topics: each tab gets only its topics' frames (one channel-layer group per topic), plus the stream's", { timeout: 30_000 }, async () => {
  const stream = "topics";
  const { context, pages } = await openTabs(stack, browser, 2, feedOptions(stack, stream, { topics }));
  await pages[0].evaluate(() => P.subscribe("prices"));
  await pages[1].evaluate(() => P.subscribe("news"));
  const nodes = () => Promise.all([stack.stats(stack.nodes.a), stack.stats(stack.nodes.b)]);
  await until(async () => (await nodes()).reduce((n, s) => n + s.topics, 0) === 2, "2 topic subscriptions on the server");
  // Published through either node: the group fans them out wherever the socket is.
  await stack.publish(stack.nodes.a, stream, [{ p: 1 }, { p: 2 }], "prices");
  await stack.publish(stack.nodes.b, stream, [{ n: 1 }], "news");
  const { first } = await stack.publish(stack.nodes.a, stream, [{ all: true }]);
  for (const p of pages) await until(() => p.evaluate(() => P.seqs.length === 1), "the stream frame");
  await until(() => pages[0].evaluate(() => P.topicFrames.length === 2), "prices frames");
  await until(() => pages[1].evaluate(() => P.topicFrames.length === 1), "news frame");
  assert.deepEqual(await pages[0].evaluate(() => P.topicFrames), [{ topic: "prices", data: { p: 1 } }, { topic: "prices", data: { p: 2 } }]);
  assert.deepEqual(await pages[1].evaluate(() => P.topicFrames), [{ topic: "news", data: { n: 1 } }]);
  for (const p of pages) assert.deepEqual(await p.evaluate(() => P.seqs), [first]);
  await context.close();
});

test("an idle socket stays open and answers tabmux's heartbeat (channels-redis with redis-py 8 dropped it with 1011 after 5 s)", { timeout: 30_000 }, async () => {
  const { context, pages } = await openTabs(stack, browser, 1, feedOptions(stack, "idle", { heartbeat: { intervalMs: 1000, timeoutMs: 1000 } }));
  const before = [await stack.stats(stack.nodes.a), await stack.stats(stack.nodes.b)];
  // The reason for this wait: the channel layer's blocking read times out every 5 s when idle.
  await new Promise((r) => setTimeout(r, 6500));
  const after = [await stack.stats(stack.nodes.a), await stack.stats(stack.nodes.b)];
  assert.equal(after[0].accepted + after[1].accepted, before[0].accepted + before[1].accepted, "no reconnect");
  assert.equal(await pages[0].evaluate(() => P.state()), "open");
  assert.deepEqual(await pages[0].evaluate(() => P.statuses.filter((s) => s.lastClose)), []);
  // A ping a second, each answered within the 1 s timeout ({"type":"ping"} → {"type":"pong"}).
  const st = await pages[0].evaluate(() => P.c.stats());
  assert.ok(st.pings >= 5, `pings: ${st.pings}`);
  assert.ok(st.pongs >= st.pings - 1 && st.pongs <= st.pings, `pings ${st.pings}, pongs ${st.pongs}`);
  await context.close();
});

test("a batch the channel layer never delivered is filled from the stream when the next one arrives", { timeout: 30_000 }, async () => {
  const stream = "holes";
  const { context, pages } = await openTabs(stack, browser, 2, feedOptions(stack, stream));
  const one = await stack.publish(stack.nodes.a, stream, [{ n: 1 }, { n: 2 }]);
  // Stored and numbered but not fanned out: what a batch dropped by the layer (past its
  // capacity, or lost with a node between the two steps) looks like to the consumer.
  const lost = JSON.parse(await stack.manage(`import asyncio; from feedsite import streams; print(asyncio.run(streams.store("${stream}", ['{"n":3}', '{"n":4}', '{"n":5}']))[0][0])`));
  const three = await stack.publish(stack.nodes.b, stream, [{ n: 6 }]);
  assert.equal(lost, one.last + 1);
  assert.equal(three.first, lost + 3);
  for (const p of pages) await until(() => p.evaluate(() => P.seqs.length === 6), "6 frames");
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), [one.first, one.first + 1, lost, lost + 1, lost + 2, three.first]);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  await context.close();
});

test("the publish endpoint refuses what it cannot take, with a reason", { timeout: 30_000 }, async () => {
  const url = `http://127.0.0.1:${stack.nodes.a.port}/publish/contract`;
  const post = async (body, headers = { "X-Publish-Key": PUBLISH_KEY }, u = url) => {
    const r = await fetch(u, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
    return [r.status, (await r.json()).error];
  };
  const shape = 'expected {"frames": [1..1000 JSON values], "topic"?: name}';
  assert.deepEqual(await post('{"frames":[1]}', {}), [403, "bad or missing X-Publish-Key"]);
  assert.deepEqual(await post('{"frames":[1]}', { "X-Publish-Key": "wrong" }), [403, "bad or missing X-Publish-Key"]);
  assert.deepEqual(await post("not json"), [400, shape]);
  assert.deepEqual(await post('{"frames":[]}'), [400, shape]);
  assert.deepEqual(await post(JSON.stringify({ frames: Array(1001).fill(0) })), [400, shape]);
  assert.deepEqual(await post('{"frames":[1],"topic":"no spaces"}'), [400, shape]);
  assert.deepEqual(await post('{"frames":[1]}', undefined, `http://127.0.0.1:${stack.nodes.a.port}/publish/bad%20stream`), [400, shape]);
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 405);
});
