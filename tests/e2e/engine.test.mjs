// The connection engine end to end: several tabs, the real worker, the dev server's
// controls. Timings are shortened through options; assertions read the server's logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

async function tabs(n, options, context) {
  context ??= await browser.newContext();
  const pages = [];
  for (let i = 0; i < n; i++) pages.push(await openTab(context, server));
  for (const p of pages) await p.evaluate((o) => T.connect(o), options);
  return { context, pages };
}

const state = (p) => p.evaluate(() => T.state(0));
const states = (p) => p.evaluate(() => T.clients[0].statuses.map((s) => s.state));
const accepts = async (channel) => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === channel);
const closes = async (channel) => (await server.ctl("/control/stats")).closes.filter((a) => a.channel === channel);

async function allIn(pages, want, what = want, ms) {
  for (const p of pages) await until(async () => (await state(p))?.state === want, `${what}`, ms);
}

/** How many statuses each page has seen so far (for `reopened`). */
const marks = (pages) => Promise.all(pages.map(async (p) => (await states(p)).length));

/** Waits until every page, since `before` (from `marks`), went reconnecting and is open again:
 *  an "open" seen before the loss reached the page does not count. */
async function reopened(pages, before, what, ms) {
  for (const [i, p] of pages.entries()) {
    await until(async () => {
      const seen = (await states(p)).slice(before[i]);
      return seen.includes("reconnecting") && seen.at(-1) === "open";
    }, what, ms);
  }
}

test("server stops mid-stream and returns: every tab reconnects to one socket, delays within the backoff bounds", async () => {
  const ch = "restart";
  const options = { url: server.ws(`/ws/${ch}`), heartbeat: false, breaker: { failureThreshold: 50 }, backoff: { initialMs: 200, factor: 2, maxMs: 2000, jitter: 0.2 } };
  const { context, pages } = await tabs(3, options);
  await allIn(pages, "open");
  const before = await marks(pages);
  const drop = await server.ctl("/control/pause?ms=1500&drop=true");
  assert.equal(drop.closed, 1);
  await reopened(pages, before, "reconnecting, then open again", 15_000);
  await sleep(300);
  const log = await accepts(ch);
  assert.equal(log.filter((a) => !a.refused).length, 2, "the first socket and exactly one after the restart");
  const closedAt = (await closes(ch))[0].at;
  const attempts = log.slice(1).map((a) => a.at);
  assert.ok(attempts.length >= 3, `attempts ${attempts}`);
  let prev = closedAt;
  attempts.forEach((at, k) => {
    const base = Math.min(200 * 2 ** k, 2000);
    const gap = at - prev;
    // Never early (a storm would be); late by up to 1 s on a loaded machine (timers are).
    assert.ok(gap >= base * 0.8 - 10 && gap <= base * 1.2 + 1000, `attempt ${k + 1}: gap ${gap} ms outside ${base} ±20% (+1 s of lateness)`);
    prev = at;
  });
  assert.ok(log.at(-1).refused === false && log.slice(1, -1).every((a) => a.refused), "refused while paused, accepted after");
  assert.equal((await server.ctl("/control/stats")).byChannel[ch], 1);
  for (const p of pages) {
    const seen = await states(p);
    const i = seen.indexOf("reconnecting");
    assert.ok(i > 0 && seen.slice(i).includes("open"), `states ${seen}`);
  }
  await context.close();
});

test("close 4401 with no token source: every tab is unauthorized and nothing reaches the server for 10 s", async () => {
  const ch = "auth-none";
  const { context, pages } = await tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false });
  await allIn(pages, "open");
  await server.ctl(`/control/close?channel=${ch}&code=4401&reason=expired`);
  await allIn(pages, "unauthorized");
  for (const p of pages) assert.deepEqual((await state(p)).lastClose, { code: 4401, reason: "expired" });
  await sleep(10_000);
  assert.equal((await accepts(ch)).length, 1);
  await context.close();
});

test("close 4401 with token.url: one token fetch, one reconnect with the new token", async () => {
  const ch = "auth-url";
  await server.ctl("/control/token?value=first");
  await server.ctl("/control/reset");
  const { context, pages } = await tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false, token: { url: "/token", pollMs: 600000 } });
  await allIn(pages, "open");
  let s = await server.ctl("/control/stats");
  assert.equal(s.tokenFetches.length, 1, "one fetch for three tabs");
  assert.equal((await accepts(ch))[0].query, "token=first");
  await server.ctl("/control/token?value=second");
  await server.ctl(`/control/close?channel=${ch}&code=4401`);
  await until(async () => (await accepts(ch)).length === 2, "the reconnect");
  await allIn(pages, "open");
  await sleep(500);
  s = await server.ctl("/control/stats");
  assert.equal(s.tokenFetches.length, 2);
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["token=first", "token=second"]);
  for (const p of pages) {
    const st = await p.evaluate(() => T.clients[0].c.stats());
    assert.ok(!JSON.stringify(st).includes("second") && !JSON.stringify(await state(p)).includes("second"), "the token is not in status or stats");
  }
  await context.close();
});

test("close 1008 is fatal: every tab is told, no retry", async () => {
  const ch = "fatal";
  const { context, pages } = await tabs(2, { url: server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 100 } });
  await allIn(pages, "open");
  await server.ctl(`/control/close?channel=${ch}&code=1008&reason=policy`);
  await allIn(pages, "closed");
  for (const p of pages) assert.deepEqual((await state(p)).lastClose, { code: 1008, reason: "policy" });
  await sleep(2000);
  assert.equal((await accepts(ch)).length, 1);
  await context.close();
});

test("server down for good: the breaker opens after 3 failures and probes once per reset timeout", async () => {
  const ch = "breaker";
  // factor 2: 100, 200, 200 ms (the default is no growth). minUptimeMs 0: the drop comes
  // right after open, and a drop before minUptimeMs would count as a failure itself.
  const options = { url: server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 100, factor: 2, maxMs: 200, jitter: 0, minUptimeMs: 0 }, breaker: { failureThreshold: 3, resetTimeoutMs: 1500 } };
  const { context, pages } = await tabs(2, options);
  await allIn(pages, "open");
  await server.ctl("/control/pause?ms=6200&drop=true");
  await until(async () => (await state(pages[0])).breaker === "open", "breaker open", 5000);
  const st = await state(pages[1]);
  await until(async () => (await state(pages[1])).breaker === "open", "breaker open in the other tab too");
  assert.ok(st.breakerRetryAt === null || st.breakerRetryAt > Date.now() - 2000);
  await allIn(pages, "open", "open after the server returns", 15_000);
  const log = await accepts(ch);
  const closedAt = (await closes(ch))[0].at;
  const at = log.slice(1).map((a) => a.at);
  const gaps = at.map((t, i) => t - (i === 0 ? closedAt : at[i - 1]));
  // 3 quick failures (100, 200, 200 ms), then one probe per 1.5 s until the server is back:
  // never earlier (the breaker's point), late by up to 1 s on a loaded machine (timers are).
  assert.ok(gaps.length >= 5 && gaps.length <= 8, `gaps ${gaps}`);
  gaps.slice(0, 3).forEach((g, i) => assert.ok(g >= [100, 200, 200][i] - 10 && g <= [100, 200, 200][i] + 1000, `gap ${i}: ${g} (${gaps})`));
  gaps.slice(3).forEach((g) => assert.ok(g >= 1490 && g <= 2500, `probe gap ${g} (${gaps})`));
  assert.equal((await state(pages[0])).breaker, "closed");
  await context.close();
});

test("offline: no attempts; online: reconnect at once", async () => {
  const ch = "offline";
  const { context, pages } = await tabs(2, { url: server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 8000, jitter: 0 } });
  await allIn(pages, "open");
  await context.setOffline(true);
  await until(async () => (await state(pages[0])).online === false, "the worker hears offline");
  await server.ctl(`/control/close?channel=${ch}&code=1012`);
  await allIn(pages, "offline");
  await sleep(1500);
  assert.equal((await accepts(ch)).length, 1, "no attempt while offline");
  const t0 = Date.now();
  await context.setOffline(false);
  await allIn(pages, "open", "open after online", 5000);
  assert.ok(Date.now() - t0 < 3000, "at once, not after the 8 s backoff");
  assert.equal((await accepts(ch)).length, 2);
  await context.close();
});

test("a server that stops answering pings is left after intervalMs + timeoutMs, and the tab reconnects", async () => {
  const ch = "heartbeat";
  const { context, pages } = await tabs(2, { url: server.ws(`/ws/${ch}`), heartbeat: { intervalMs: 400, timeoutMs: 300 } });
  await allIn(pages, "open");
  await until(async () => typeof (await state(pages[0])).rttMs === "number", "an RTT measured");
  const s0 = await state(pages[0]);
  assert.ok(["good", "fair", "poor"].includes(s0.quality));
  assert.ok(!(await pages[0].evaluate(() => T.clients[0].messages)).some((m) => m.includes("pong")), "pongs are not delivered");
  const before = await marks(pages);
  await server.ctl("/control/pong?enabled=false");
  const t0 = Date.now();
  await until(async () => (await closes(ch)).length === 1, "the client closes the silent socket", 5000);
  const waited = Date.now() - t0;
  assert.equal((await closes(ch))[0].code, 4000);
  // Never before intervalMs + timeoutMs less a timer's slack; up to 1 s late on a loaded machine.
  assert.ok(waited >= 250 && waited <= 400 + 300 + 1000, `closed after ${waited} ms`);
  await server.ctl("/control/pong?enabled=true");
  await reopened(pages, before, "reconnecting, then open again");
  assert.equal((await accepts(ch)).length, 2);
  await context.close();
});

test("5 tabs calling setToken with the same new token: exactly one reconnect", async () => {
  const ch = "settoken";
  const { context, pages } = await tabs(5, { url: server.ws(`/ws/${ch}`), heartbeat: false });
  await allIn(pages, "open");
  await Promise.all(pages.map((p) => p.evaluate(() => T.clients[0].c.setToken("fresh-token"))));
  await until(async () => (await accepts(ch)).length === 2, "one reconnect");
  await allIn(pages, "open");
  await sleep(1000);
  assert.deepEqual((await accepts(ch)).map((a) => a.query), ["", "token=fresh-token"]);
  await Promise.all(pages.map((p) => p.evaluate(() => T.clients[0].c.setToken("fresh-token"))));
  await sleep(800);
  assert.equal((await accepts(ch)).length, 2, "the same token again does nothing");
  await context.close();
});

test("token.url with 5 tabs: one fetch per poll interval for the whole browser", async () => {
  const ch = "poll";
  await server.ctl("/control/token?value=steady");
  await server.ctl("/control/reset");
  const { context, pages } = await tabs(5, { url: server.ws(`/ws/${ch}`), heartbeat: false, token: { url: "/token", pollMs: 500 } });
  await allIn(pages, "open");
  await sleep(2600);
  const fetches = (await server.ctl("/control/stats")).tokenFetches;
  // One poll per 500 ms for the whole browser (not one per tab: that would be ~25); a loaded
  // machine may fit fewer, never more.
  assert.ok(fetches.length >= 3 && fetches.length <= 7, `fetches ${fetches.length}`);
  fetches.slice(1).forEach((t, i) => assert.ok(t - fetches[i] >= 450, `two fetches ${t - fetches[i]} ms apart`));
  assert.equal((await accepts(ch)).length, 1, "an unchanged token does not reconnect");
  await context.close();
});
