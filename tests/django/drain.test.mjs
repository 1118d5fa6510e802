// Scenario: a drain. SIGTERM makes a node close its sockets with 1012 and "restart;
// reconnect-within=5000" (examples/django-channels/feedsite/drain.py) instead of dying without a
// close frame. 4 browsers (4 contexts, so 4 SharedWorkers and 4 sockets, 1-2 tabs each) are
// attached through nginx while frames flow with `sequence`; each node is drained in turn. Every
// browser must see the close and its hint, come back at a moment drawn over the 5 s the node
// asked for (not within feedOptions' short backoff), and lose nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

const WINDOW_MS = 5000; // the example's default TABMUX_DRAIN_WITHIN_MS
const REASON = `restart; reconnect-within=${WINDOW_MS}`;
// Close → open again, as the page sees it, may exceed the drawn delay by the handshake through
// nginx and the status posts from the worker (a few ms; more on a loaded machine).
const SLACK_MS = 1000;
// A node is drained only when every socket has lasted tabmux's backoff.minUptimeMs (5 s), as a
// rolling deploy that waits between nodes would: a socket the server closes sooner counts as a
// flap (a failed attempt; 3 in a row open the breaker for 30 s), hint or not. The pause also
// outlasts nginx's fail_timeout (2 s), during which it still takes the restarted node for dead.
const SETTLE_MS = 5500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A browser's outages from `since` on (its first tab's view; all its tabs share the socket):
 * when the status left open, the close it reported, the retry the engine planned (debug log)
 * and when it was open again. */
async function drainOutages(page, since) {
  return page.evaluate((since) => {
    const out = [];
    P.statuses.forEach((s, i) => {
      if (s.at < since || i === 0 || P.statuses[i - 1].state !== "open" || s.state === "open") return;
      const rest = P.statuses.slice(i);
      const reopened = rest.find((x) => x.state === "open");
      const scheduled = rest.find((x) => x.nextRetryAt !== null);
      const retry = P.log.find((e) => e.event === "retry" && e.seenAt >= s.at - 50);
      const breaker = P.statuses.slice(i, i + rest.indexOf(reopened) + 1).map((x) => x.breaker);
      out.push({
        at: s.at,
        close: s.lastClose,
        openMs: reopened ? reopened.at - s.at : null,
        retryReason: scheduled?.retryReason ?? null,
        hint: retry?.hint ?? null,
        delayMs: retry?.delayMs ?? null,
        attempt: retry?.attempt ?? null,
        breaker: [...new Set(breaker)],
      });
    });
    return out;
  }, since);
}

/** For a failure message: each browser's statuses and debug log, in ms after `t0`. */
async function timelines(browsers, t0) {
  const lines = await Promise.all(browsers.map(({ pages }) => pages[0].evaluate((t0) => [
    ...P.statuses.map((s) => [s.at - t0, s.state, s.lastClose?.code, s.retryReason, s.breaker].join(" ")),
    ...P.log.map((e) => [e.seenAt - t0, e.event, e.code ?? e.delayMs ?? e.url ?? "", e.hint ?? ""].join(" ")),
  ].sort((x, y) => parseInt(x) - parseInt(y)), t0)));
  return lines.map((l, i) => `browser ${i}:\n  ${l.join("\n  ")}`).join("\n");
}

test("SIGTERM drains each node in turn: 4 browsers see 1012 with reconnect-within=5000, come back spread over 5 s, every frame once, in order", { timeout: 180_000 }, async () => {
  const stream = "drain";
  const options = { ...feedOptions(stack, stream), recordLog: true };
  const browsers = [];
  for (const n of [2, 1, 2, 1]) browsers.push(await openTabs(stack, browser, n, options));
  const allPages = browsers.flatMap((b) => b.pages);
  const { a, b } = stack.nodes;
  const open = async () => ({ a: (await stack.stats(a)).open, b: (await stack.stats(b)).open });
  const start = await open();
  assert.equal(start.a + start.b, 4, `one socket per browser: ${JSON.stringify(start)}`);
  // First the node holding more sockets; once its browsers are all on the other one (the
  // drained node restarts only then), that one holds all 4 and is drained second.
  const first = start.a >= start.b ? a : b;
  const second = first === a ? b : a;

  const total = 15_000;
  let via = second;
  let sent = 0;
  const drains = [];
  let settledAt = Date.now() + SETTLE_MS;
  const draining = (async () => {
    for (const [node, other] of [[first, second], [second, first]]) {
      await sleep(settledAt - Date.now());
      via = other;
      const before = sent;
      await until(() => sent > before, "the batch in flight to the draining node done", 5_000, 5);
      const sockets = (await stack.stats(node)).open;
      const t0 = Date.now();
      const exit = await node.stop("SIGTERM");
      const stopMs = Date.now() - t0;
      try {
        await until(async () => (await stack.stats(other)).open === 4, "all 4 browsers on the other node", WINDOW_MS + 10_000, 50);
      } catch (e) {
        throw new Error(`${e.message}\n${JSON.stringify(await stack.stats(other))}\n${await timelines(browsers, t0)}`);
      }
      const allBackMs = Date.now() - t0;
      settledAt = Date.now() + SETTLE_MS;
      await stack.startNode(node);
      const said = [...node.log().matchAll(/SIGTERM: closed (\d+) sockets with .*, (\d+) still open/g)].at(-1);
      drains.push({ node: node.name, at: t0, stoppedAtFrame: before, sockets, exit, stopMs, allBackMs, said: said && { closed: Number(said[1]), stillOpen: Number(said[2]) } });
    }
  })();
  // Frames go through the node not being drained, 500 a second for 30 s.
  const published = await publishSteadily(stack, stream, { total, perSecond: 500, via: () => via, onBatch: async (n) => void (sent = n) });
  await draining;
  await waitForFrames(allPages, total);

  // (c) Nothing lost: every tab has every number once, in order, no gap.
  for (const p of allPages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), published);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }

  // The nodes: each SIGTERM came while frames flowed, closed every socket it held, got every
  // browser's answer within the 1 s bound, and the process exited 0 as before.
  for (const d of drains) {
    assert.ok(d.stoppedAtFrame < total, `node ${d.node} drained while frames flowed`);
    assert.deepEqual(d.exit, { code: 0, signal: null }, `node ${d.node} exit`);
    assert.ok(d.stopMs < 3000, `node ${d.node} took ${d.stopMs} ms to exit`);
    assert.deepEqual(d.said, { closed: d.sockets, stillOpen: 0 }, `node ${d.node}'s log`);
  }
  assert.equal(drains[1].sockets, 4, "the second node held all 4 sockets when drained");

  // Each browser's outages, assigned to the drain they followed.
  const seen = [];
  for (const [i, { pages }] of browsers.entries()) {
    for (const o of await drainOutages(pages[0], drains[0].at)) {
      const d = o.at >= drains[1].at ? 1 : 0;
      seen.push({ browser: i, drain: d, ...o, afterSigtermMs: o.at - drains[d].at });
    }
  }
  const outagesIn = (d) => seen.filter((o) => o.drain === d);
  assert.equal(outagesIn(0).length, drains[0].sockets, `one outage per browser the first node held: ${JSON.stringify(seen)}`);
  assert.deepEqual(outagesIn(1).map((o) => o.browser).sort(), [0, 1, 2, 3], `one outage per browser in the second drain: ${JSON.stringify(seen)}`);

  // (a) Every browser saw 1012 and the hint, in every tab's status; the engine followed the
  // hint, not feedOptions' 200-1000 ms backoff.
  for (const o of seen) {
    assert.deepEqual(o.close, { code: 1012, reason: REASON }, JSON.stringify(o));
    assert.equal(o.retryReason, "server-hint", JSON.stringify(o));
    assert.deepEqual(o.breaker, ["closed"], JSON.stringify(o));
    assert.equal(o.hint, `reconnect-within=${WINDOW_MS}`, JSON.stringify(o));
    assert.ok(o.delayMs >= 0 && o.delayMs <= WINDOW_MS, `drawn delay ${o.delayMs} ms`);
  }
  // Drained ≥ minUptimeMs apart, no close counted as a failed attempt: the breaker stayed closed.
  for (const o of seen) assert.equal(o.attempt, 1, `the retry after a drain is the first: ${JSON.stringify(o)}`);
  for (const p of allPages) {
    const closes = await p.evaluate((since) => P.statuses.filter((s) => s.at >= since && s.state === "reconnecting").map((s) => s.lastClose?.code), drains[0].at);
    assert.ok(closes.length >= 1 && closes.every((c) => c === 1012), `a tab's closes: ${JSON.stringify(closes)}`);
  }

  // (b) The reconnects spread over the window: each within [0, 5 s + slack] of its close, and
  // not all within the first 100 ms.
  const openMs = seen.map((o) => o.openMs);
  for (const o of seen) assert.ok(o.openMs !== null && o.openMs >= 0 && o.openMs <= WINDOW_MS + SLACK_MS, `reconnected ${o.openMs} ms after the close: ${JSON.stringify(o)}`);
  assert.ok(openMs.some((ms) => ms > 100), `all ${openMs.length} reconnects within 100 ms of the close: ${openMs}`);

  const after = await open();
  assert.equal(after.a + after.b, 4, `still one socket per browser: ${JSON.stringify(after)}`);
  const sorted = [...openMs].sort((x, y) => x - y);
  console.log(
    `# drain: ${drains.map((d) => `node ${d.node} (SIGTERM at frame ${d.stoppedAtFrame}, ${d.sockets} sockets closed with 1012 "${REASON}", exit code ${d.exit.code} after ${d.stopMs} ms, every browser back after ${d.allBackMs} ms)`).join("; ")}; ` +
      `close → open again per browser: ${[0, 1].map((d) => `drain ${d + 1}: ${outagesIn(d).map((o) => `${o.openMs} ms (drawn ${o.delayMs})`).join(", ")}`).join("; ")}; ` +
      `${seen.length} reconnects from ${sorted[0]} to ${sorted.at(-1)} ms, the close seen ${Math.min(...seen.map((o) => o.afterSigtermMs))}-${Math.max(...seen.map((o) => o.afterSigtermMs))} ms after SIGTERM; ` +
      `${total} frames × ${allPages.length} tabs exactly once, in order`,
  );
  for (const { context } of browsers) await context.close();
});
