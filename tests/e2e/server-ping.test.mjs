// serverPing end to end: the worker answers the server's pings once for the whole browser
// (not once per tab), no tab sees them, and a bad setting is refused with a message naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const received = async (ch) => (await server.ctl("/control/stats")).received.filter((r) => r.channel === ch).map((r) => r.data);

for (const [preset, ping, reply] of [["graphql-ws", '{"type":"ping"}', '{"type":"pong"}'], ["socket.io", "2", "3"]]) {
  test(`serverPing "${preset}": 3 tabs, 5 pings → 5 replies on the one socket, 0 pings delivered, ordinary frames still delivered`, async () => {
    const ch = `sping-${preset.replace(".", "")}`;
    const context = await browser.newContext();
    const pages = [await openTab(context, server), await openTab(context, server), await openTab(context, server)];
    for (const p of pages) await p.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false, serverPing: preset });
    for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open" && T.state(0).tabs === 3), "open, 3 tabs");
    for (let i = 0; i < 5; i++) await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent(ping)}`);
    await server.ctl(`/control/broadcast?channel=${ch}&text=after`);
    for (const p of pages) await until(() => p.evaluate(() => T.clients[0].messages.length === 1), "the ordinary frame");
    await until(async () => (await received(ch)).length === 5, "5 replies at the server");
    await sleep(200);
    assert.deepEqual(await received(ch), Array(5).fill(reply), "one reply per ping for the whole browser");
    for (const p of pages) assert.deepEqual(await p.evaluate(() => T.clients[0].messages), ["after"], "no tab sees a ping");
    const stats = await pages[0].evaluate(() => T.clients[0].c.stats());
    assert.equal(stats.serverPings, 5);
    assert.equal(stats.framesIn, 6);
    assert.equal(stats.deliveries, 3);
    assert.equal(typeof stats.lastHeartbeatAt, "number", "a server ping is liveness");
    assert.equal((await server.ctl("/control/stats")).byChannel[ch], 1);
    await context.close();
  });
}

test("serverPing with a custom pattern and bad settings refused with the option named", async () => {
  const ch = "sping-custom";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  await page.evaluate((o) => T.connect(o), {
    url: server.ws(`/ws/${ch}`),
    heartbeat: false,
    serverPing: { match: { field: "op", value: "hb" }, reply: '{"op":"hb_ack"}' },
  });
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent('{"op":"hb","t":1}')}`);
  await server.ctl(`/control/broadcast?channel=${ch}&text=${encodeURIComponent('{"op":"data","v":"hb"}')}`);
  await until(() => page.evaluate(() => T.clients[0].messages.length === 1), "the data frame");
  await until(async () => (await received(ch)).length === 1, "the reply");
  assert.deepEqual(await received(ch), ['{"op":"hb_ack"}']);
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), ['{"op":"data","v":"hb"}']);

  const bad = await page.evaluate((url) => Promise.all([
    T.connectError({ url, serverPing: "stomp" }),
    T.connectError({ url, serverPing: { match: "2" } }),
    T.connectError({ url, serverPing: { match: 2, reply: "3" } }),
  ]), server.ws("/ws/sping-bad"));
  assert.deepEqual(bad.map((e) => e.code), ["invalid-options", "invalid-options", "invalid-options"]);
  assert.equal(bad[0].message, "tabmux: invalid options: serverPing: unknown variant `stomp`, expected one of `graphql-ws`, `centrifugo`, `socket.io`");
  assert.equal(bad[1].message, "tabmux: invalid options: serverPing: missing field `reply`");
  assert.equal(bad[2].message, "tabmux: invalid options: serverPing.match: expected the exact text of a ping, or { field, value }, got 2");
  await context.close();
});
