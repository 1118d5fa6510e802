// Subprotocols end to end against a dev-server endpoint that requires one
// (`?subprotocol=NAME`: chosen when offered, else accepted and closed with 4406).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const accepts = async (ch) => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch && !a.refused);

for (const mode of ["shared", "direct"]) {
  test(`${mode}: tabs offering graphql-transport-ws see the chosen protocol (one socket when shared); a tab offering none gets a socket of its own, closed with 4406`, async () => {
    const ch = `subproto-${mode}`;
    const url = server.ws(`/ws/${ch}?subprotocol=graphql-transport-ws`);
    const context = await browser.newContext();
    const [a, b, c] = [await openTab(context, server), await openTab(context, server), await openTab(context, server)];
    const gql = { url, mode, heartbeat: false, protocols: ["graphql-transport-ws", "graphql-ws"] };
    await a.evaluate((o) => T.connect(o), gql);
    await b.evaluate((o) => T.connect(o), gql);
    for (const p of [a, b]) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open");
    if (mode === "shared") await until(() => a.evaluate(() => T.state(0).tabs === 2), "2 tabs on one socket");
    assert.equal((await a.evaluate(() => T.state(0))).protocol, "graphql-transport-ws");
    assert.equal((await b.evaluate(() => T.clients[0].c.status.protocol)), "graphql-transport-ws");

    await c.evaluate((o) => T.connect(o), { url, mode, heartbeat: false, closeCodes: { 4406: "fatal" } });
    await until(() => c.evaluate(() => T.state(0)?.state === "closed"), "closed by the server");
    const cs = await c.evaluate(() => T.state(0));
    assert.deepEqual(cs.lastClose, { code: 4406, reason: "Subprotocol not acceptable" });
    assert.equal(cs.protocol, null);
    assert.deepEqual(await c.evaluate(() => T.clients[0].errors), [], "another endpoint, not conflicting options");

    const log = await accepts(ch);
    assert.deepEqual(log.map((x) => [x.protocols, x.protocol]), [
      ...(mode === "shared" ? [[["graphql-transport-ws", "graphql-ws"], "graphql-transport-ws"]] : [[["graphql-transport-ws", "graphql-ws"], "graphql-transport-ws"], [["graphql-transport-ws", "graphql-ws"], "graphql-transport-ws"]]),
      [[], null],
    ]);
    await sleep(200);
    assert.equal((await a.evaluate(() => T.state(0))).state, "open", "the protocol tabs are untouched");
    await context.close();
  });
}

test("a bad protocols option is refused with the problem named", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const errs = await page.evaluate((url) => Promise.all([
    T.connectError({ url, protocols: ["a", "a"] }),
    T.connectError({ url, protocols: "has space" }),
    T.connectError({ url, protocols: 5 }),
  ]), server.ws("/ws/subproto-bad"));
  assert.deepEqual(errs, [
    { code: "invalid-options", message: 'tabmux: invalid options: protocols lists "a" twice (the WebSocket constructor refuses that)' },
    { code: "invalid-options", message: "tabmux: invalid options: protocols must be tokens (letters, digits and !#$%&'*+-.^_`|~, 1 to 256 of them), got \"has space\"" },
    { code: "invalid-options", message: "tabmux: invalid options: protocols: expected a subprotocol name or a list of them, got 5" },
  ]);
  await context.close();
});
