// `npm run storm`: as many browsers (Playwright contexts, each with its own SharedWorker) as
// STORM_BROWSERS (default 100) connected to our dev server on 127.0.0.1; then the server
// drops every socket at once (with close 1012, or as a restart: every socket dropped and
// upgrades refused for 2 s) and the accept log shows when each browser came back.
// STORM_CASES (comma-separated labels, see `cases` below) picks the scenarios. Reports the largest share of reconnects inside any 100 ms window and the time until
// all are back, for the default backoff (full jitter over 4 s) and, as the baseline in the same
// run, for the field's usual ±20% around 1 s. Bounded; stops itself.
import { join } from "node:path";
import { startServer, launchBrowser, openTab, until, sleep, root } from "../e2e/helpers.mjs";

const N = Number(process.env.STORM_BROWSERS ?? 100);
const server = await startServer({ bin: join(root, "target", "release", "tabmux-devserver") });
const browser = await launchBrowser();

async function storm(label, backoff, downMs = 0) {
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
  const { closed } = await server.ctl(downMs ? `/control/pause?ms=${downMs}&drop=true` : `/control/close?channel=${ch}&code=1012&reason=restart`);
  const dropAt = (await server.ctl("/control/stats")).now;
  // The server has seen every socket close before anyone can count as back.
  await until(async () => ((await server.ctl("/control/stats")).closes.filter((c) => c.channel === ch).length >= closed), "the drop", 30_000);
  await until(async () => (await server.ctl("/control/stats")).byChannel[ch] === reached, "everyone back", 120_000);
  const log = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch).slice(before);
  const refused = log.filter((a) => a.refused).length;
  const back = log.filter((a) => !a.refused).map((a) => a.at - dropAt).sort((a, b) => a - b);
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
  const result = { label, browsers: reached, closed, downMs, refused, reconnects: back.length, firstMs: back[0], lastMs: back.at(-1), max100msShare: most / reached, plannedMax100msShare: plannedMost / planned.length, setupSeconds: setup };
  console.log(`# storm ${label}: ${reached} browsers (${setup.toFixed(0)} s to set up)${downMs ? `, server down ${downMs} ms (${refused} attempts refused)` : ""}; all back ${back.at(-1)} ms after the drop (first ${back[0]} ms); at most ${most} (${((100 * most) / reached).toFixed(1)}%) arrived in any 100 ms window; the engines planned at most ${plannedMost} of ${planned.length} (${((100 * plannedMost) / Math.max(1, planned.length)).toFixed(1)}%) in any 100 ms window, over ${planned.length ? planned.at(-1) - planned[0] : 0} ms`);
  for (const { ctx } of contexts) await ctx.close();
  return result;
}

try {
  const cases = [
    ["default", null],
    ["ratio-0.2-1s", { initialMs: 1000, jitter: 0.2 }],
    ["default-restart", null, 2000],
    ["ratio-0.2-1s-restart", { initialMs: 1000, jitter: 0.2 }, 2000],
  ];
  // STORM_CASES=default,default-restart runs only those.
  const only = process.env.STORM_CASES?.split(",");
  for (const [label, backoff, downMs] of cases) if (!only || only.includes(label)) await storm(label, backoff, downMs);
} finally {
  await browser.close();
  await server.stop();
}
