// Who the socket belongs to, end to end: accounts never share a socket, a sign-out in one tab
// closes that identity's socket for every tab at once, a token URL answering 401 does the
// same, and tokens from the start (`token.value`) or from the page's auth SDK (`token.get`)
// against a server that closes tokenless sockets with 4401 (the dev server's `?auth=1`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep, workerCopy, ENDER } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

const stats = () => server.ctl("/control/stats");
const accepts = async (ch) => (await stats()).accepts.filter((a) => a.channel === ch);
const closes = async (ch) => (await stats()).closes.filter((c) => c.channel === ch);
const state = (p) => p.evaluate(() => T.state(0)?.state);
const statesSeen = (p) => p.evaluate(() => T.clients[0].statuses.map((s) => s.state));
const messages = (p) => p.evaluate(() => T.clients[0].messages.length);

async function open(context, options, n = 1) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const p = await openTab(context, server);
    await p.evaluate((o) => T.connect(o), options);
    pages.push(p);
  }
  return pages;
}

/** Connects with a `token.get` that counts its calls (`GETS`), answers `NEXT + calls`, and
 *  never answers while `HANG` is set (counting those calls in `HUNG`). */
async function openWithGet(context, options) {
  const p = await openTab(context, server);
  await p.evaluate((o) => {
    window.GETS = 0;
    window.NEXT = "g";
    window.HUNG = 0;
    o.token = { ...o.token, get: () => (window.HANG ? (window.HUNG++, new Promise(() => {})) : Promise.resolve(`${window.NEXT}${++window.GETS}`)) };
    return T.connect(o);
  }, options);
  return p;
}

const allIn = async (pages, want, ms) => {
  for (const p of pages) await until(async () => (await state(p)) === want, want, ms);
};

test("two accounts get two sockets; a sign-out closes that account's socket for every tab within 100 ms, and no frame of it reaches a tab afterwards", async () => {
  const ch = "identity";
  const context = await browser.newContext();
  const base = { url: server.ws(`/ws/${ch}`), heartbeat: false };
  const ann = await open(context, { ...base, account: "ann", token: { value: "ann-1" } }, 3);
  const [bob] = await open(context, { ...base, account: "bob", token: { value: "bob-1" } });
  await allIn([...ann, bob], "open");
  assert.deepEqual((await accepts(ch)).map((a) => a.query).sort(), ["token=ann-1", "token=bob-1"], "one socket per account");

  await server.ctl(`/control/broadcast?channel=${ch}&n=20`);
  for (const p of [...ann, bob]) await until(async () => (await messages(p)) === 20, "20 frames each, once");

  const before = (await stats()).now;
  await ann[0].evaluate(() => T.clients[0].c.signOut());
  await until(async () => (await closes(ch)).length === 1, "the ann socket closes");
  const [closed] = await closes(ch);
  const ms = closed.at - before;
  console.log(`sign-out → the server saw the close after ${ms} ms (includes the test's own round trip)`);
  assert.ok(ms <= 100, `closed ${ms} ms after the call`);
  await allIn(ann, "unauthorized");
  for (const p of ann) {
    const st = await p.evaluate(() => T.state(0));
    assert.equal(st.lastError, "signed out");
  }
  const annCounts = await Promise.all(ann.map(messages));
  await server.ctl(`/control/broadcast?channel=${ch}&n=20`);
  await until(async () => (await messages(bob)) === 40, "bob keeps his stream");
  await sleep(300);
  assert.deepEqual(await Promise.all(ann.map(messages)), annCounts, "0 frames reach ann's tabs after the sign-out");
  assert.equal((await stats()).accepts.filter((a) => a.channel === ch).length, 2, "no reconnect while signed out");

  // Signing in again in any tab opens one socket with the new token, for all three.
  await ann[2].evaluate(() => T.clients[0].c.setToken("ann-2"));
  await allIn(ann, "open");
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["token=ann-1", "token=bob-1", "token=ann-2"]);
  await context.close();
});

test("a token URL answering 401 signs every tab out instead of keeping the old token", async () => {
  const ch = "identity-401";
  await server.ctl("/control/token?value=url-1");
  const context = await browser.newContext();
  const pages = await open(context, { url: server.ws(`/ws/${ch}`), heartbeat: false, token: { url: "/token", pollMs: 300 } }, 2);
  await allIn(pages, "open");
  await server.ctl("/control/token?value=");
  await allIn(pages, "unauthorized");
  assert.equal(await pages[0].evaluate(() => T.state(0).lastError), "the token URL answered 401");
  assert.equal((await closes(ch)).length, 1);
  const fetches = (await stats()).tokenFetches.length;
  await sleep(1000);
  assert.equal((await stats()).tokenFetches.length, fetches, "no polling while signed out");
  await context.close();
  await server.ctl("/control/token?value=dev");
});

test("token.value: 3 tabs cold start against a server that closes tokenless sockets with 4401 — 1 handshake, with the token, and never unauthorized", async () => {
  const ch = "identity-value";
  const context = await browser.newContext();
  const pages = await open(context, { url: server.ws(`/ws/${ch}?auth=1`), heartbeat: false, token: { value: "v-1" } }, 3);
  await allIn(pages, "open");
  await sleep(500);
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["auth=1&token=v-1"]);
  for (const p of pages) assert.ok(!(await statesSeen(p)).includes("unauthorized"));
  await context.close();
});

test("token.get: 1 handshake with the token on a cold start of 3 tabs, one call per needed token for the whole browser, and a tab closing mid-call does not stall the refresh", async () => {
  const ch = "identity-get";
  const context = await browser.newContext();
  const options = { url: server.ws(`/ws/${ch}?auth=1`), heartbeat: false, backoff: { minUptimeMs: 50 }, token: { pollMs: 600_000 } };
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await openWithGet(context, options));
  await allIn(pages, "open");
  const calls = () => Promise.all(pages.filter((p) => !p.isClosed()).map((p) => p.evaluate(() => window.GETS)));
  const sum = async () => (await calls()).reduce((a, b) => a + b, 0);
  assert.equal(await sum(), 1, "one call for three tabs");
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["auth=1&token=g1"]);

  for (let i = 1; i <= 5; i++) {
    await sleep(200); // past minUptimeMs: the refresh is fresh again
    await server.ctl(`/control/close?channel=${ch}&code=4401&reason=expired`);
    await until(async () => (await accepts(ch)).length === i + 1, `refresh ${i}`);
    await allIn(pages, "open");
  }
  assert.equal(await sum(), 6, "5 refreshes → 5 calls");
  for (const a of await accepts(ch)) assert.match(a.query, /^auth=1&token=g\d+$/);
  for (const p of pages) assert.ok(!(await statesSeen(p)).includes("unauthorized"), "the app never sees unauthorized");

  // The tab asked (the one attached last) hangs, then closes: another is asked at once.
  const asked = pages[2];
  assert.deepEqual(await calls(), [1, 0, 5], "the first tab for the cold start (the only one then), the tab attached last for every refresh");
  await asked.evaluate(() => (window.HANG = true));
  await sleep(200);
  await server.ctl(`/control/close?channel=${ch}&code=4401&reason=expired`);
  await until(async () => (await asked.evaluate(() => window.HUNG)) === 1, "the hanging tab is asked");
  await asked.close();
  const t0 = Date.now();
  await until(async () => (await accepts(ch)).length === 7, "the refresh goes on without the closed tab");
  console.log(`closed mid-call → reopened ${Date.now() - t0} ms later`);
  await allIn(pages.slice(0, 2), "open");
  assert.equal(await sum(), 2, "the two tabs left answered once between them (and the first the cold start)");
  assert.match((await accepts(ch))[6].query, /^auth=1&token=g[12]$/);
  await context.close();
});

test("token.get in direct mode: the first socket carries the token", async () => {
  const ch = "identity-direct";
  const context = await browser.newContext();
  const p = await openWithGet(context, { url: server.ws(`/ws/${ch}?auth=1`), heartbeat: false, mode: "direct" });
  await allIn([p], "open");
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["auth=1&token=g1"]);
  assert.equal(await p.evaluate(() => window.GETS), 1);
  await context.close();
});

test("a replaced worker takes the newest token its tabs carry, and a sign-out carried by any tab keeps it signed out", async () => {
  workerCopy("ender-identity", ENDER);
  const ch = "identity-replaced";
  const context = await browser.newContext();
  const options = { url: server.ws(`/ws/${ch}`), heartbeat: false, workerUrl: "/dist-test/ender-identity/shared-websocket-worker.js", token: { value: "v0", debounceMs: 10 } };
  const pages = await open(context, options, 3);
  await allIn(pages, "open");
  // Tab 0 set the newest token; tabs 1 and 2 were told it (and its number) by the worker.
  await pages[0].evaluate(() => T.clients[0].c.setToken("newest"));
  await until(async () => (await accepts(ch)).length === 2, "the reconnect with the newest token");
  await allIn(pages, "open");
  const end = () => pages[1].evaluate(() => new BroadcastChannel("tabmux-test-end").postMessage("end"));
  await end();
  await until(async () => (await accepts(ch)).length === 3, "the replacement's socket");
  await allIn(pages, "open");
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["token=v0", "token=newest", "token=newest"], "its first socket carries the newest token, whichever tab said hello first");
  // Signed out in tab 2, then the worker ends: no tab brings the old token back.
  await pages[2].evaluate(() => T.clients[0].c.signOut());
  await allIn(pages, "unauthorized");
  await end();
  await sleep(3000);
  for (const p of pages) assert.equal(await state(p), "unauthorized");
  assert.equal((await accepts(ch)).length, 3, "no socket after the sign-out, in the old worker or the new one");
  await context.close();
});
