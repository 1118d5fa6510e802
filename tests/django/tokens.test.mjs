// Scenario 3: tokens that expire every 2 s while frames flow. The consumer closes an open
// socket with 4401 when its token expires; tabmux fetches the token URL (once for the whole
// browser, not once per tab) and reconnects with `since`; nothing is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames, sum } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]), { env: { TABMUX_TOKEN_MAX_AGE: "2" } });

test("2-second tokens: a 4401 at each expiry, one token fetch per reconnect per browser, 6,000 frames exactly once", { timeout: 120_000 }, async () => {
  const stream = "tokens";
  // pollMs far above the test's length: every fetch counted below is one made for a connect.
  const options = feedOptions(stack, stream, { token: { url: `${stack.http}/token`, pollMs: 600_000 } });
  const { context, pages } = await openTabs(stack, browser, 4, options);
  const total = 6_000;
  const published = await publishSteadily(stack, stream, { total, via: () => stack.nodes.a });
  await waitForFrames(pages, total);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), published);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  // The counters move every 2 s; read them at a quiet moment: one socket open, and the same
  // numbers twice 200 ms apart (no close, fetch or connect in between).
  const read = async () => JSON.stringify([await stack.stats(stack.nodes.a), await stack.stats(stack.nodes.b)]);
  const nodes = JSON.parse(await until(async () => {
    const first = await read();
    await new Promise((r) => setTimeout(r, 200));
    return first === (await read()) && sum(JSON.parse(first).map((n) => n.open)) === 1 && first;
  }, "a quiet moment in the token churn"));
  const accepted = sum(nodes.map((n) => n.accepted));
  const fetches = sum(nodes.map((n) => n.token_fetches));
  const expired = sum(nodes.map((n) => n.unauthorized));
  // 6 s of frames with 2 s tokens: at least two expiries while they flowed.
  assert.ok(expired >= 2, `expiry closes: ${expired}`);
  // Every socket but the current one was closed for expiry, and each connect (the first and
  // every reconnect) was preceded by exactly one fetch, for 4 tabs together.
  assert.equal(expired, accepted - 1);
  assert.equal(fetches, accepted);
  const statuses = await pages[0].evaluate(() => P.statuses);
  const codes = [...new Set(statuses.filter((s) => s.lastClose).map((s) => s.lastClose.code))];
  assert.deepEqual(codes, [4401]);
  assert.ok(!statuses.some((s) => s.state === "unauthorized"), "never stuck in unauthorized");
  console.log(`# tokens (2 s): ${accepted} sockets for ${pages.length} tabs, ${expired} closed with 4401 at expiry, ${fetches} token fetches (one per connect, per browser); ${total} frames × ${pages.length} tabs exactly once, in order`);
  await context.close();
});

test("a token already expired on connect: accepted, then closed with 4401 (not a refused handshake)", { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.http}/index.html`);
  await page.waitForFunction(() => document.title === "ready", null, { timeout: 10_000 });
  await page.evaluate(() => P.login("bob"));
  const token = await page.evaluate(() => P.token());
  const url = (t) => `ws://127.0.0.1:${stack.nginxPort}/ws/tokens?token=${encodeURIComponent(t)}`;
  // While fresh it works: a ping is answered.
  assert.deepEqual(await page.evaluate(([u]) => P.raw(u, ['{"type":"ping"}'], 1), [url(token)]), { got: ['{"type":"pong"}'], open: true, code: null });
  // The token lives 2 s (TABMUX_TOKEN_MAX_AGE): wait that out, then it is refused with 4401.
  await new Promise((r) => setTimeout(r, 2100));
  assert.deepEqual(await page.evaluate(([u]) => P.raw(u, [], 1), [url(token)]), { got: [], open: false, code: 4401 });
  await context.close();
});
