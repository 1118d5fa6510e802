// Bounded memory has a price: the stream keeps about TABMUX_STREAM_MAXLEN frames (MAXLEN ~).
// A browser that was away for longer gets what is left, and tabmux reports the rest as a gap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { withStack, feedOptions, openTabs, publishSteadily, waitForFrames } from "./tabs.mjs";
import { until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]), { env: { TABMUX_STREAM_MAXLEN: "100" } });

test("away longer than the stream keeps: the kept frames in order, one gap for the trimmed ones", { timeout: 60_000 }, async () => {
  const stream = "trim";
  const { context, pages } = await openTabs(stack, browser, 2, feedOptions(stack, stream));
  const before = await publishSteadily(stack, stream, { total: 50, via: () => stack.nodes.a });
  await waitForFrames(pages, 50);
  const sa = await stack.stats(stack.nodes.a);
  const [holder, other] = sa.open === 1 ? [stack.nodes.a, stack.nodes.b] : [stack.nodes.b, stack.nodes.a];
  // The socket's node freezes (its TCP connection stays up, so the browser notices nothing)…
  holder.proc.kill("SIGSTOP");
  const missed = await publishSteadily(stack, stream, { total: 2000, perSecond: 20_000, batch: 200, via: () => other });
  // …then dies: the reconnect asks for since=<last before the freeze>.
  await holder.stop("SIGKILL");
  const kept = execFileSync("redis-cli", ["-p", String(stack.redisPort), "XRANGE", `stream:${stream}`, "-", "+"], { encoding: "utf8" })
    .split("\n").filter((l) => /^\d+-0$/.test(l)).map((l) => Number(l.slice(0, -2)));
  assert.ok(kept.length >= 100 && kept.length < 1000, `MAXLEN ~ 100 kept ${kept.length}`);
  assert.deepEqual(kept, missed.slice(-kept.length), "the stream keeps the newest, contiguous");
  for (const p of pages) await until(() => p.evaluate((n) => P.seqs.length === n, 50 + kept.length), "the kept frames", 20_000);
  for (const p of pages) {
    assert.deepEqual(await p.evaluate(() => P.seqs), [...before, ...kept]);
    assert.deepEqual(await p.evaluate(() => P.gaps), [{ from: before.at(-1) + 1, to: kept[0] - 1 }]);
  }
  console.log(`# trim: MAXLEN ~ 100 kept ${kept.length} of ${missed.length} missed frames; each tab got them in order and one gap of ${kept[0] - before.at(-1) - 1}`);
  await context.close();
});
