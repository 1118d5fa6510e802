// A batch stored in the stream but never fanned out (the channel layer dropped it, or the
// publishing node died between storing and fanning out), with no batch after it to show the
// hole: every socket finds it in the stream within a second (consumers.py catch_up).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames } from "./tabs.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

test("a last batch the channel layer never delivered reaches every tab from the stream within seconds, in order, once", { timeout: 60_000 }, async () => {
  const stream = "catchup";
  const { context, pages } = await openTabs(stack, browser, 2, feedOptions(stack, stream));
  const live = await publishSteadily(stack, stream, { total: 20, via: () => stack.nodes.a });
  await waitForFrames(pages, 20);
  // Five frames stored as the publish script stores them, and not sent to the channel layer.
  const redis = (...args) => execFileSync("redis-cli", ["-p", String(stack.redisPort), ...args], { encoding: "utf8" }).trim();
  const stored = [];
  for (let k = 0; k < 5; k++) {
    const seq = Number(redis("INCR", `seq:${stream}`));
    redis("XADD", `stream:${stream}`, `${seq}-0`, "d", JSON.stringify({ i: 20 + k }));
    stored.push(seq);
  }
  assert.deepEqual(stored, [live.at(-1) + 1, live.at(-1) + 2, live.at(-1) + 3, live.at(-1) + 4, live.at(-1) + 5]);
  const t0 = Date.now();
  await waitForFrames(pages, 25, 5_000);
  const ms = Date.now() - t0;
  // Then live again: nothing twice, nothing out of order, no gap.
  const after = await publishSteadily(stack, stream, { total: 5, via: () => stack.nodes.b });
  await waitForFrames(pages, 30);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), [...live, ...stored, ...after]);
    assert.deepEqual(await p.evaluate(() => P.gaps), []);
  }
  console.log(`# catch-up: 5 frames only in the stream reached both tabs ${ms} ms after they were stored`);
  await context.close();
});
