// A worker the browser ends mid-stream (Android does under memory pressure), behind the real
// stack: 3 tabs, 10,000 frames published at 1,000/s with `sequence` on; the worker ends after
// 3,000. Each tab starts a replacement and says hello with the last number it delivered; the
// new worker connects with `since` after the lowest of them, and each tab drops what it had:
// every tab gets all 10,000 exactly once, in order, with no gap.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames } from "./tabs.mjs";
import { ENDER, workerCopy } from "../e2e/helpers.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));
let workerUrl;
before(() => (workerUrl = workerCopy("ender", ENDER)));

const range = (first, n) => Array.from({ length: n }, (_, i) => first + i);

test("a worker ended mid-stream: the replacement resumes after the tabs' last numbers; every tab gets 10,000 frames exactly once, in order", { timeout: 120_000 }, async () => {
  const stream = "worker-ended";
  const { context, pages } = await openTabs(stack, browser, 3, feedOptions(stack, stream, { workerUrl }));
  const { a, b } = stack.nodes;
  const total = 10_000;
  const published = await publishSteadily(stack, stream, {
    total,
    via: () => a,
    onBatch: async (sent) => {
      if (sent === 3000) await pages[0].evaluate(() => new BroadcastChannel("tabmux-test-end").postMessage("end"));
    },
  });
  assert.deepEqual(published, range(published[0], total), "the server numbered the frames without a hole");
  await waitForFrames(pages, total);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), published);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  const [sa, sb] = [await stack.stats(a), await stack.stats(b)];
  assert.equal(sa.accepted + sb.accepted, 2, "one socket per worker");
  await context.close();
});
