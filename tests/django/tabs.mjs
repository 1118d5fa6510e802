// Browser side of the Django tests: one Chromium (Debian's, as in tests/e2e), tabs in ONE
// context so they share one SharedWorker, each loading pages/index.html through nginx.
import { before, after } from "node:test";
import { launchBrowser } from "../e2e/helpers.mjs";
import { startStack, until } from "./stack.mjs";

/** Starts the stack and a browser before the file's tests and kills both after, pass or fail. */
export function withStack(set, stackOptions) {
  let stack, browser;
  before(async () => {
    stack = await startStack(stackOptions);
    browser = await launchBrowser();
    set(stack, browser);
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  });
}

/** tabmux options for `stream` through nginx: token URL, sequence, a short backoff. */
export function feedOptions(stack, stream, extra = {}) {
  return {
    url: `ws://127.0.0.1:${stack.nginxPort}/ws/${stream}`,
    token: { url: `${stack.http}/token` },
    sequence: { key: "/seq" },
    // The default (the first retry within 7.5 s of a loss, then every 7.5 s) makes each
    // failover take 0–7.5 s; these keep the suite short (full jitter over 200 ms doubling to
    // 1 s, as before the defaults changed). TABMUX_DJANGO_BACKOFF=default measures the default (README).
    ...(process.env.TABMUX_DJANGO_BACKOFF === "default" ? {} : { backoff: { initialMs: 200, factor: 2, maxMs: 1000, jitter: "full" } }),
    ...extra,
  };
}

/** Opens `n` tabs in one new context, signs the browser in once (as `user`), connects every
 * tab and waits until every tab's status is open. */
export async function openTabs(stack, browser, n, options, { user = "alice" } = {}) {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error("page error:", e.message));
    await page.goto(`${stack.http}/index.html`);
    await page.waitForFunction(() => document.title === "ready", null, { timeout: 10_000 });
    pages.push(page);
  }
  await pages[0].evaluate((u) => P.login(u), user);
  for (const p of pages) await p.evaluate((o) => P.connect(o), options);
  for (const p of pages) await until(() => p.evaluate(() => P.state() === "open"), "tab open");
  return { context, pages };
}

/** Publishes `total` frames through whichever node `via()` names, `batch` at a time at
 * `perSecond` (scheduled on absolute times, so a slow request is caught up). `onBatch(sent)`
 * runs after each batch. Returns every number the server gave out, in order. */
export async function publishSteadily(stack, stream, { total, perSecond = 1000, batch = 50, via, onBatch = async () => {} }) {
  const seqs = [];
  const t0 = Date.now();
  const interval = (1000 * batch) / perSecond;
  for (let sent = 0, k = 0; sent < total; k++) {
    const wait = t0 + k * interval - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const n = Math.min(batch, total - sent);
    const frames = Array.from({ length: n }, (_, i) => ({ i: sent + i }));
    const { first, last } = await stack.publish(via(), stream, frames);
    for (let s = first; s <= last; s++) seqs.push(s);
    sent += n;
    await onBatch(sent);
    if (Date.now() - t0 > 60_000) throw new Error(`publishing ${total} frames took over 60 s`);
  }
  return seqs;
}

/** Waits until every tab holds `count` stream frames (or `ms` pass). */
export async function waitForFrames(pages, count, ms = 30_000) {
  try {
    for (const p of pages) await until(() => p.evaluate((c) => P.seqs.length >= c, count), `${count} frames in a tab`, ms, 100);
  } catch (e) {
    // What the first tab saw, for the failure message.
    const seen = await pages[0].evaluate(() => ({ frames: P.seqs.length, statuses: P.statuses.slice(-8), errors: P.errors.slice(-5), other: P.other.slice(-5), gaps: P.gaps }));
    throw new Error(`${e.message}\ntab 0: ${JSON.stringify(seen)}`);
  }
}

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);

/** Each time a tab's status left `open` at or after `since`: when, the close code, when it was
 * open again, and when the first frame after that came (ms after leaving open; null if not
 * yet). Frames still in flight from the old socket do not count: only those after reopening. */
export async function outages(page, since = 0) {
  return page.evaluate((since) => {
    const out = [];
    let prev = null;
    P.statuses.forEach((s, i) => {
      if (s.at >= since && prev === "open" && s.state !== "open") {
        const reopened = P.statuses.slice(i).find((x) => x.state === "open");
        const first = reopened && P.times.find((t) => t >= reopened.at);
        out.push({ at: s.at, state: s.state, code: s.lastClose?.code ?? null, openMs: reopened ? reopened.at - s.at : null, firstFrameMs: first === undefined || first === null ? null : first - s.at });
      }
      prev = s.state;
    });
    return out;
  }, since);
}
