// Scenario 2: a rolling restart. Each node in turn gets SIGTERM and is started again while
// frames flow; publishing goes through the node that is not restarting. Every tab must get
// all frames exactly once, in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames, outages } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

test("rolling restart (SIGTERM, start again) of both nodes while 10,000 frames flow: exactly once, in order", { timeout: 120_000 }, async () => {
  const stream = "rolling";
  const { context, pages } = await openTabs(stack, browser, 4, feedOptions(stack, stream));
  const { a, b } = stack.nodes;
  const total = 10_000;
  let via = b;
  let sent = 0;
  const restarts = [];
  const rolling = (async () => {
    await until(() => sent >= 1500, "1,500 frames published", 20_000);
    for (const [node, other] of [[a, b], [b, a]]) {
      via = other;
      const before = sent;
      await until(() => sent > before, "the batch in flight to the restarting node done", 5_000, 5);
      const t0 = Date.now();
      const stoppedAtFrame = sent;
      const exit = await node.stop("SIGTERM");
      const stopped = Date.now();
      await stack.startNode(node);
      restarts.push({ node: node.name, stoppedAtFrame, stopMs: stopped - t0, downMs: Date.now() - t0, exit });
    }
  })();
  const published = await publishSteadily(stack, stream, { total, via: () => via, onBatch: async (n) => void (sent = n) });
  await rolling;
  await waitForFrames(pages, total);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), published);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  for (const r of restarts) assert.ok(r.stoppedAtFrame < total, `node ${r.node} restarted while frames flowed`);
  const seen = await Promise.all(pages.map((p) => outages(p)));
  // The socket's node was restarted once or twice (the socket may follow the first restart
  // onto the node restarted second); each outage healed.
  for (const o of seen) {
    assert.ok(o.length >= 1 && o.length <= 2, JSON.stringify(o));
    for (const x of o) assert.notEqual(x.firstFrameMs, null);
  }
  const [sa, sb] = [await stack.stats(a), await stack.stats(b)];
  assert.equal(sa.open + sb.open, 1, "still one socket for the browser");
  console.log(`# rolling restart: ${restarts.map((r) => `node ${r.node} stopped at frame ${r.stoppedAtFrame} (exit after ${r.stopMs} ms, ${r.exit.signal ?? "code " + r.exit.code}), back after ${r.downMs} ms`).join("; ")}; ` +
    `outages seen by tab 0: ${seen[0].map((o) => `${o.state} (close ${o.code}), open again ${o.openMs} ms later, first frame ${o.firstFrameMs} ms later`).join("; ")}; ${total} frames × ${pages.length} tabs exactly once, in order`);
  await context.close();
});
