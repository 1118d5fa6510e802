// Scenario 1: one browser, 4 tabs, one socket through nginx; 10,000 frames published through
// the other node at 1,000/s; the node holding the socket is SIGKILLed mid-stream. Every tab
// must get all 10,000 exactly once, in order, after reconnecting through nginx with `since`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames, outages, sum } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

const range = (first, n) => Array.from({ length: n }, (_, i) => first + i);

test("SIGKILL of the node holding the socket: every tab gets 10,000 frames exactly once, in order", { timeout: 120_000 }, async () => {
  const stream = "failover";
  const { context, pages } = await openTabs(stack, browser, 4, feedOptions(stack, stream));
  const { a, b } = stack.nodes;
  const [sa, sb] = [await stack.stats(a), await stack.stats(b)];
  assert.equal(sa.open + sb.open, 1, "one socket for 4 tabs");
  assert.equal(sa.accepted + sb.accepted, 1);
  const [holder, other] = sa.open === 1 ? [a, b] : [b, a];

  const total = 10_000;
  let killedAt = null;
  const published = await publishSteadily(stack, stream, {
    total,
    via: () => other, // frames cross the channel layer to the holder
    onBatch: async (sent) => {
      if (sent === 3000) {
        killedAt = Date.now();
        await holder.stop("SIGKILL");
      }
    },
  });
  assert.deepEqual(published, range(published[0], total), "the server numbered the frames without a hole");
  await waitForFrames(pages, total);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), published);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  // The socket moved to the survivor: still one for the browser.
  const after = await stack.stats(other);
  assert.equal(after.open, 1);
  // From the kill to the first frame a tab got on the new socket (frames that were already in
  // flight when the node died do not count as recovery).
  const seen = await Promise.all(pages.map((p) => outages(p, killedAt)));
  for (const o of seen) assert.equal(o.length, 1, `one outage per tab: ${JSON.stringify(o)}`);
  const firstAfter = seen.map(([o]) => o.at + o.firstFrameMs - killedAt);
  const detected = seen.map(([o]) => o.at - killedAt);
  const reopened = seen.map(([o]) => o.at + o.openMs - killedAt);
  const recovery = Math.min(...firstAfter);
  console.log(`# failover: kill → first frame after it ${recovery} ms (per tab: ${firstAfter.join(", ")} ms; the browser saw the close after ${detected.join(", ")} ms and was open again after ${reopened.join(", ")} ms, ` +
    `code ${seen[0][0].code}); ${total} frames × ${pages.length} tabs, exactly once and in order; sockets accepted by the survivor: ${after.accepted}`);
  assert.ok(recovery < 5000, `recovery took ${recovery} ms`);
  // The dead node comes back and answers again (the stack is whole for whoever is next).
  await stack.startNode(holder);
  assert.equal(sum([(await stack.stats(holder)).open, after.open]), 1);
  await context.close();
});
