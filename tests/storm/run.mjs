// `npm run storm`: as many browsers (Playwright contexts, each with its own SharedWorker) as
// STORM_BROWSERS (default 100) connected to our dev server on 127.0.0.1; then the server
// drops every socket at once (a restart) and the accept log shows when each browser came
// back. Reports the largest share of reconnects inside any 100 ms window and the time until
// all are back, for the default backoff (full jitter over 4 s) and, as the baseline in the same
// run, for the field's usual ±20% around 1 s. Bounded; stops itself.
import { join } from "node:path";
import { startServer, launchBrowser, openTab, until, sleep, root } from "../e2e/helpers.mjs";

const N = Number(process.env.STORM_BROWSERS ?? 100);
const server = await startServer({ bin: join(root, "target", "release", "tabmux-devserver") });
const browser = await launchBrowser();

async function storm(label, backoff) {
  const ch = `storm-${label}`;
  const contexts = [];
  let reached = 0;
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    try {
      const ctx = await browser.newContext();
      const page = await openTab(ctx, server);
      await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false, ...(backoff ? { backoff } : {}) });
      contexts.push({ ctx, page });
      reached++;
    } catch (e) {
      console.log(`# stopped adding browsers at ${reached}: ${e.message}`);
      break;
    }
  }
  await until(async () => (await server.ctl("/control/stats")).byChannel[ch] === reached, `${reached} sockets`, 120_000);
  const setup = (Date.now() - t0) / 1000;
  const before = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch).length;
  const { closed } = await server.ctl(`/control/close?channel=${ch}&code=1012&reason=restart`);
  const dropAt = (await server.ctl("/control/stats")).now;
  // The server has seen every socket close before anyone can count as back.
  await until(async () => ((await server.ctl("/control/stats")).closes.filter((c) => c.channel === ch).length >= closed), "the drop", 30_000);
  await until(async () => (await server.ctl("/control/stats")).byChannel[ch] === reached, "everyone back", 120_000);
  const back = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch).slice(before).map((a) => a.at - dropAt).sort((a, b) => a - b);
  const densest = (xs) => {
    let most = 0;
    for (let i = 0; i < xs.length; i++) {
      let j = i;
      while (j < xs.length && xs[j] < xs[i] + 100) j++;
      most = Math.max(most, j - i);
    }
    return most;
  };
  const most = densest(back);
  // What the engines planned (each worker's nextRetryAt), apart from when a loaded machine ran them.
  const planned = [];
  for (const { page } of contexts) {
    const at = await page.evaluate(() => T.clients[0].statuses.find((s) => s.nextRetryAt)?.nextRetryAt ?? null);
    if (at) planned.push(at);
  }
  planned.sort((a, b) => a - b);
  const plannedMost = densest(planned);
  const result = { label, browsers: reached, closed, reconnects: back.length, firstMs: back[0], lastMs: back.at(-1), max100msShare: most / reached, plannedMax100msShare: plannedMost / planned.length, setupSeconds: setup };
  console.log(`# storm ${label}: ${reached} browsers (${setup.toFixed(0)} s to set up); all back ${back.at(-1)} ms after the drop (first ${back[0]} ms); at most ${most} (${((100 * most) / reached).toFixed(1)}%) arrived in any 100 ms window; the engines planned at most ${plannedMost} of ${planned.length} (${((100 * plannedMost) / Math.max(1, planned.length)).toFixed(1)}%) in any 100 ms window, over ${planned.length ? planned.at(-1) - planned[0] : 0} ms`);
  for (const { ctx } of contexts) await ctx.close();
  return result;
}

try {
  await storm("default", null);
  await storm("ratio-0.2-1s", { initialMs: 1000, jitter: 0.2 });
} finally {
  await browser.close();
  await server.stop();
}
