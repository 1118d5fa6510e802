// json: true and sendJson, end to end in both transports: handlers get parsed values, each
// frame is parsed once per client however many handlers it has, a frame that is not JSON text
// is an error event carrying the frame, and sendJson writes JSON.stringify's text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const topics = { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' };

for (const mode of ["shared", "direct"]) {
  test(`${mode}: json: true parses each frame once for 3 message listeners and 2 topic handlers; non-JSON is a bad-json error with the frame`, async () => {
    const ch = `json-${mode}`;
    const context = await browser.newContext();
    const page = await openTab(context, server);
    // Count the page's JSON.parse calls from here on (tabmux's glue looks it up at each call).
    await page.evaluate(() => {
      const parse = JSON.parse;
      window.PARSES = 0;
      JSON.parse = function (...a) {
        window.PARSES++;
        return parse.apply(this, a);
      };
    });
    await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), mode, json: true, heartbeat: false, topics });
    await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
    await page.evaluate(() => {
      const c = T.clients[0].c;
      window.SEEN = { a: [], b: [], topic: [] };
      c.on("message", (d) => SEEN.a.push(d));
      c.on("message", (d) => SEEN.b.push(d));
      T.subscribe(0, "prices");
      c.subscribe("prices", (d, t) => SEEN.topic.push([t, d.price]));
    });
    await until(async () => (await server.ctl("/control/stats")).received.some((r) => r.channel === ch && r.data.includes("subscribe")), "subscribed");
    await page.evaluate(() => (window.PARSES = 0));
    const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=50`);
    await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent('{"topic":"prices","price":7}')}`);
    await server.ctl(`/control/broadcast?channel=${ch}&text=not%20json`);
    await until(() => page.evaluate(() => T.clients[0].errors.length === 1), "the bad-json error");
    await sleep(100);
    const r = await page.evaluate(() => ({ parses: PARSES, seen: SEEN, rec: T.clients[0] }));
    assert.equal(r.seen.a.length, 50);
    assert.deepEqual(r.seen.a[0], { seq: firstSeq, channel: ch, pad: "" }, "a parsed object, not the text");
    assert.deepEqual(r.seen.b, r.seen.a);
    assert.deepEqual(r.rec.messages, r.seen.a, "the harness's own listener: the same values");
    assert.deepEqual(r.seen.topic, [["prices", 7]]);
    assert.deepEqual(r.rec.topics.prices, [{ topic: "prices", price: 7 }]);
    // 50 frames + 1 topic frame + 1 failed parse: once each, for 3 listeners and 2 handlers.
    // In direct mode the engine runs in this page too, and reads each frame's topic key
    // (options.topics) with its own JSON.parse: 52 more, counted here, none in shared mode.
    assert.equal(r.parses, mode === "shared" ? 52 : 104);
    assert.equal(r.rec.errors[0].code, "bad-json");
    assert.match(r.rec.errors[0].message, /^tabmux: json is on and a frame is not JSON text: /);
    await context.close();
  });
}

test("json: a binary frame is a bad-json error carrying the ArrayBuffer; a client without json on the same socket still gets the raw text", async () => {
  const ch = "json-mixed";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), json: true, heartbeat: false });
  await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false });
  await until(() => page.evaluate(() => T.state(0)?.state === "open" && T.state(1)?.clients === 2), "both open on one socket");
  await page.evaluate(() => {
    window.BAD = [];
    T.clients[0].c.on("error", (e) => BAD.push({ code: e.code, bytes: e.frame instanceof ArrayBuffer ? e.frame.byteLength : e.frame }));
  });
  await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent('{"a":[1,2]}')}`);
  await server.ctl(`/control/broadcast?channel=${ch}&n=1&binary=true&size=16`);
  await server.ctl(`/control/broadcast?channel=${ch}&text=oops`);
  await until(() => page.evaluate(() => BAD.length === 2), "two bad-json errors");
  const r = await page.evaluate(() => ({ json: T.clients[0].messages, raw: T.clients[1].messages, bad: BAD, rawErrors: T.clients[1].errors }));
  assert.deepEqual(r.json, [{ a: [1, 2] }]);
  assert.equal(r.raw[0], '{"a":[1,2]}');
  assert.equal(r.raw.length, 3, "the raw client gets all three frames");
  assert.equal(r.bad[0].code, "bad-json");
  assert.equal(typeof r.bad[0].bytes, "number", "the binary frame rides on the error as an ArrayBuffer");
  assert.deepEqual(r.bad[1], { code: "bad-json", bytes: "oops" });
  assert.deepEqual(r.rawErrors, [], "json on one client is not a conflicting option for the other");
  await context.close();
});

for (const mode of ["shared", "direct"]) {
  test(`${mode}: sendJson writes JSON.stringify's text once; a value with no JSON form rejects with bad-message`, async () => {
    const ch = `sendjson-${mode}`;
    const context = await browser.newContext();
    const page = await openTab(context, server);
    await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), mode, heartbeat: false });
    await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
    const errors = await page.evaluate(async () => {
      const c = T.clients[0].c;
      await c.sendJson({ type: "order", qty: 2, tags: ["a"], note: "é\u2028" });
      const out = [];
      const cyclic = {};
      cyclic.self = cyclic;
      for (const v of [cyclic, undefined, () => 1, 10n]) {
        out.push(await c.sendJson(v).then(() => "sent", (e) => `${e.code}: ${e.message}`));
      }
      return out;
    });
    assert.equal(errors.length, 4);
    for (const e of errors) assert.match(e, /^bad-message: tabmux: bad message to the worker: sendJson: /);
    assert.match(errors[1], /no JSON form/);
    await sleep(100);
    const got = (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data);
    assert.deepEqual(got, [JSON.stringify({ type: "order", qty: 2, tags: ["a"], note: "é\u2028" })]);
    await context.close();
  });
}
