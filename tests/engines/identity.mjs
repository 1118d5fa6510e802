// The identity and token scenarios of the engine suite (issues 26 and 31): accounts never share
// a socket, a sign-out closes that account's socket for every tab at once, and tokens from the
// start (`token.value`) and from the page's auth SDK (`token.get`) against a server that closes
// tokenless sockets with 4401 (the dev server's `?auth=1`), in both transports. Written once
// against the adapter like every scenario of tests/engines/scenarios.mjs, which lists these.
// tests/e2e/identity.test.mjs has the Chromium details (timings, a worker's replacement).
import assert from "node:assert/strict";
import { until, sleep } from "../e2e/helpers.mjs";

/** Connects `tab` with a `token.get` that counts its calls in window.GETS and answers g<n>. */
const connectWithGet = (tab, options) =>
  tab.eval((o) => {
    window.GETS = 0;
    o.token = { ...o.token, get: () => Promise.resolve(`g${++window.GETS}`) };
    return T.connect(o);
  }, options);

const stateOf = async (x, t) => (await x.state(t))?.state;
const everyIn = async (x, tabs, want) => {
  for (const t of tabs) await until(async () => (await stateOf(x, t)) === want, want);
};
const seen = (t) => t.eval(() => T.clients[0].statuses.map((s) => s.state));

export const identityScenarios = [
  {
    name: "accounts and sign-out: two accounts get two sockets; a sign-out in one tab closes that account's socket for its three tabs, no frame of it reaches them after, the other account streams on, and a new token opens one socket",
    async run(x) {
      const ch = "identity";
      const base = { url: x.server.ws(`/ws/${ch}`), heartbeat: false };
      const ann = [];
      for (let i = 0; i < 3; i++) ann.push(await x.open());
      const bob = await x.open();
      for (const t of ann) await t.eval((o) => T.connect(o), { ...base, account: "ann", token: { value: "ann-1" } });
      await bob.eval((o) => T.connect(o), { ...base, account: "bob", token: { value: "bob-1" } });
      await everyIn(x, [...ann, bob], "open");
      assert.deepEqual((await x.accepts(ch)).map((a) => a.query).sort(), ["token=ann-1", "token=bob-1"]);
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=10`);
      for (const t of [...ann, bob]) await until(async () => (await x.messages(t)).length === 10, "10 frames each, once");

      await ann[0].eval(() => T.clients[0].c.signOut());
      await everyIn(x, ann, "unauthorized");
      const closes = (await x.stats()).closes.filter((c) => c.channel === ch);
      assert.equal(closes.length, 1, "ann's socket closed");
      for (const t of ann) assert.equal((await x.state(t)).lastError, "signed out");
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=10`);
      await until(async () => (await x.messages(bob)).length === 20, "bob streams on");
      await sleep(300);
      for (const t of ann) assert.equal((await x.messages(t)).length, 10, "no frame after the sign-out");

      await ann[1].eval(() => T.clients[0].c.setToken("ann-2"));
      await everyIn(x, ann, "open");
      assert.equal((await x.accepts(ch)).length, 3, "one new socket for ann's three tabs");
      assert.equal((await x.accepts(ch)).at(-1).query, "token=ann-2");
    },
  },
  ...["shared", "direct"].map((mode) => ({
    name: `tokens from the start and from the page's auth SDK (${mode} mode), against a server that closes tokenless sockets with 4401: one handshake each, with the token; token.get asked once per needed token; never unauthorized`,
    async run(x) {
      const value = `identity-value-${mode}`;
      const get = `identity-get-${mode}`;
      const tabs = mode === "shared" ? 3 : 1;
      const v = [];
      for (let i = 0; i < tabs; i++) v.push(await x.open());
      for (const t of v) await t.eval((o) => T.connect(o), { url: x.server.ws(`/ws/${value}?auth=1`), heartbeat: false, mode, token: { value: "v-1" } });
      await everyIn(x, v, "open");
      assert.deepEqual((await x.accepts(value)).map((a) => a.query), ["auth=1&token=v-1"]);

      const g = [];
      for (let i = 0; i < tabs; i++) g.push(await x.open());
      const options = { url: x.server.ws(`/ws/${get}?auth=1`), heartbeat: false, mode, backoff: { minUptimeMs: 50 }, token: { pollMs: 600_000 } };
      for (const t of g) await connectWithGet(t, options);
      await everyIn(x, g, "open");
      const calls = async () => (await Promise.all(g.map((t) => t.eval(() => window.GETS)))).reduce((a, b) => a + b, 0);
      assert.equal(await calls(), 1, "one call for the whole browser");
      assert.deepEqual((await x.accepts(get)).map((a) => a.query), ["auth=1&token=g1"]);
      for (let i = 1; i <= 2; i++) {
        await sleep(200);
        await x.server.ctl(`/control/close?channel=${get}&code=4401&reason=expired`);
        await until(async () => (await x.accepts(get)).length === i + 1, `refresh ${i}`);
        await everyIn(x, g, "open");
      }
      assert.equal(await calls(), 3, "2 refreshes, 2 calls");
      for (const t of [...v, ...g]) assert.ok(!(await seen(t)).includes("unauthorized"), "never unauthorized");
    },
  })),
];
