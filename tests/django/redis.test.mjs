// Scenario 4: Redis (channel layer and streams; no persistence, so it comes back empty) is
// killed while 4 tabs are connected, and started again 1.5 s later. What the user sees is
// asserted exactly; the README's "Running behind Django Channels" says the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames, sum } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

test("Redis restarted (empty) under open sockets: 1011 and retries while down, then one gap and frames again", { timeout: 120_000 }, async () => {
  const stream = "redis";
  // The suite's short backoff (200 ms doubling) makes several attempts inside the 1.5 s
  // outage, each accepted and closed at once with 1011: a flapping server, which the breaker
  // counts. With the default backoff (7.5 s) a browser makes one; here the breaker is kept out
  // of the way so the test sees what the example does, not how many attempts 1.5 s holds.
  const { context, pages } = await openTabs(stack, browser, 4, feedOptions(stack, stream, { breaker: { failureThreshold: 20 } }));
  const before = await publishSteadily(stack, stream, { total: 500, via: () => stack.nodes.b });
  await waitForFrames(pages, 500);

  const killedAt = Date.now();
  await stack.redis.stop("SIGKILL");
  // Each tab sees its socket close with 1011 (Channels ends the consumer whose layer read failed).
  for (const p of pages) await until(() => p.evaluate((t) => P.statuses.some((s) => s.at > t && s.lastClose?.code === 1011 && s.state === "reconnecting"), killedAt), "a 1011 close after the kill", 10_000);
  const closedAfter = await pages[0].evaluate((t) => P.statuses.find((s) => s.at > t && s.state === "reconnecting").at - t, killedAt);
  // Publishing is refused while Redis is down: the publisher knows, nothing is numbered.
  await assert.rejects(stack.publish(stack.nodes.b, stream, [{ lost: true }]), (e) => e.status === 503);
  await new Promise((r) => setTimeout(r, 1500 - (Date.now() - killedAt))); // Redis down for 1.5 s in all

  await stack.startRedis();
  const backAt = Date.now();
  // The first socket that opens after Redis is back stays open.
  await until(async () => sum((await Promise.all([stack.stats(stack.nodes.a), stack.stats(stack.nodes.b)])).map((n) => n.open)) === 1 &&
    (await pages[0].evaluate((t) => P.statuses.at(-1).state === "open" && Date.now() - P.statuses.at(-1).at > 1500, backAt)), "a socket open for 1.5 s after Redis is back", 20_000);
  const stableAt = await pages[0].evaluate(() => P.statuses.at(-1).at);
  const after = await publishSteadily(stack, stream, { total: 1000, via: () => stack.nodes.a });
  await waitForFrames(pages, 1500);
  for (const p of pages) {
    const seen = await p.evaluate((t) => ({ seqs: P.seqs, gaps: P.gaps, errors: P.errors, other: P.other, closes: P.statuses.filter((s) => s.at > t && s.lastClose).map((s) => s.lastClose.code), states: [...new Set(P.statuses.filter((s) => s.at > t).map((s) => s.state))].sort(), breaker: [...new Set(P.statuses.map((s) => s.breaker))] }), killedAt);
    assert.deepEqual(seen.seqs, [...before, ...after]);
    // Redis came back empty: the numbers restart at the clock (µs), above the old ones: one
    // gap event over the jump, and no new frame is taken for an old one.
    assert.deepEqual(seen.gaps, [{ from: before.at(-1) + 1, to: after[0] - 1 }]);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.other, []);
    assert.deepEqual([...new Set(seen.closes)], [1011]);
    assert.deepEqual(seen.states, ["open", "reconnecting"]);
    assert.deepEqual(seen.breaker, ["closed"]);
  }
  const opened = await pages[0].evaluate((t) => P.statuses.filter((s, i) => s.at > t && s.state === "open" && P.statuses[i - 1]?.state !== "open").length, killedAt);
  console.log(`# redis restart: sockets closed (1011) ${closedAfter} ms after the kill; down 1.5 s; ${opened} sockets opened after the kill, the last one stable ` +
    `(${stableAt - backAt} ms after Redis was back); publish while down → 503; then 1 gap event per tab over the restarted numbering; ${1500} frames × ${pages.length} tabs exactly once, in order`);
  await context.close();
});
