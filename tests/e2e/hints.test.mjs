// The server decides the spread: each retry hint form a server can put in a close frame, and
// the close-code presets, in Chromium against the real dev server and the real worker. Times
// are the server's own (its log of closes and accepts), so the browser's clock plays no part.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTab, sleep, until, withServerAndBrowser } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ((server = s), (browser = b)));

/** One tab connected to `channel` with `extra` options and a debug logger that keeps the
 * retry events; resolves once open. */
async function tab(channel, extra = {}) {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  await page.evaluate(
    async ({ url, extra }) => {
      window.RETRIES = [];
      const { index } = await T.connect({ url, heartbeat: false, ...extra, logger: (e) => e.event === "retry" && RETRIES.push(e) });
      window.I = index;
    },
    { url: server.ws(`/ws/${channel}`), extra },
  );
  await until(async () => (await page.evaluate(() => T.state(I)?.state)) === "open", "open");
  return { context, page };
}

/** Closes `channel`'s socket with `code` and `reason`; resolves with the ms (server clock)
 * from that close to the next accepted handshake on the channel, or null if none came within
 * `waitMs`. */
async function closeAndTime(channel, code, reason, waitMs = 8000) {
  const stats = await server.ctl("/control/stats");
  const before = stats.accepts.filter((a) => a.channel === channel).length;
  const closesBefore = stats.closes.filter((c) => c.channel === channel).length;
  await server.ctl(`/control/close?channel=${channel}&code=${code}&reason=${encodeURIComponent(reason)}`);
  // The server logs the close when the socket has gone (a moment after the request).
  const closedAt = await until(async () => {
    const closes = (await server.ctl("/control/stats")).closes.filter((c) => c.channel === channel);
    return closes.length > closesBefore && closes.at(-1).at;
  }, "the close logged");
  const end = Date.now() + waitMs;
  while (Date.now() < end) {
    const accepts = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === channel);
    if (accepts.length > before) return accepts.at(-1).at - closedAt;
    await sleep(25);
  }
  return null;
}

const forms = [
  { name: "retry-after=<ms> in a text reason", code: 4000, reason: "restart; retry-after=1500", min: 1500, max: 1500 + 7500 },
  { name: "reconnect-within=<ms> (a drain window)", code: 4000, reason: "drain; reconnect-within=2000", min: 0, max: 2300 },
  { name: "a JSON reason with retryAfterMs", code: 4000, reason: '{"retryAfterMs":1200}', min: 1200, max: 1200 + 7500 },
  { name: "Courier's {\"Retry-After\":\"2\"} (seconds)", code: 4000, reason: '{"Retry-After":"2"}', min: 2000, max: 2000 + 7500 },
  { name: "code 1013 with retry-after", code: 1013, reason: "busy retry-after=800", min: 800, max: 800 + 7500 },
];

for (const f of forms) {
  test(`hint: ${f.name}: the next handshake is not before it, status and log say so`, async () => {
    const channel = `hint-${forms.indexOf(f)}`;
    // No jitter and a short base, so the hint alone decides the delay (then the backoff's
    // own short wait after it).
    const { context, page } = await tab(channel, { backoff: { initialMs: 100, jitter: 0 } });
    const waited = await closeAndTime(channel, f.code, f.reason, 12_000);
    assert.ok(waited !== null, "reconnected");
    assert.ok(waited >= f.min - 30 && waited <= f.max, `${f.name}: ${waited} ms after the close (want ${f.min}–${f.max})`);
    const retry = await page.evaluate(() => RETRIES.at(-1));
    assert.ok(retry.hint, `the retry event names the hint: ${JSON.stringify(retry)}`);
    const st = await page.evaluate(() => T.clients[I].c.stats());
    assert.equal(st.serverHints, 1);
    console.log(`# ${f.name}: back ${waited} ms after the close (hint ${retry.hint})`);
    await context.close();
  });
}

test("hint: a retry-after wait shows in the status while it lasts (nextRetryAt, retryReason)", async () => {
  const channel = "hint-status";
  const { context, page } = await tab(channel);
  await server.ctl(`/control/close?channel=${channel}&code=4000&reason=${encodeURIComponent("retry-after=3000")}`);
  const st = await until(async () => {
    const s = await page.evaluate(() => T.state(I));
    return s.state === "reconnecting" && s.nextRetryAt && s;
  }, "reconnecting with a planned retry");
  assert.equal(st.retryReason, "server-hint");
  const now = await page.evaluate(() => Date.now());
  assert.ok(st.nextRetryAt - now >= 2500, `nextRetryAt ${st.nextRetryAt - now} ms ahead`);
  await context.close();
});

test("preset pusher: 4200 reconnects at once, 4100 waits at least 1 s, 4001 is fatal", async () => {
  const channel = "pusher";
  const { context, page } = await tab(channel, { closeCodePreset: "pusher", backoff: { initialMs: 100, jitter: 0 } });
  const now = await closeAndTime(channel, 4200, "reconnect now");
  assert.ok(now !== null && now < 500, `4200: back after ${now} ms`);
  await until(async () => (await page.evaluate(() => T.state(I)?.state)) === "open", "open again");
  const later = await closeAndTime(channel, 4100, "over capacity");
  assert.ok(later !== null && later >= 970, `4100: back after ${later} ms`);
  await until(async () => (await page.evaluate(() => T.state(I)?.state)) === "open", "open again");
  const never = await closeAndTime(channel, 4001, "app disabled", 2000);
  assert.equal(never, null, "4001: no reconnect");
  assert.equal((await page.evaluate(() => T.state(I))).state, "closed");
  console.log(`# pusher preset: 4200 back after ${now} ms, 4100 after ${later} ms, 4001 closed`);
  await context.close();
});

for (const [preset, fatal, retried] of [["centrifugo", 3501, 4000], ["graphql-ws", 4406, 4999]]) {
  test(`preset ${preset}: ${retried} is retried, ${fatal} is fatal`, async () => {
    const channel = `preset-${preset}`;
    const { context, page } = await tab(channel, { closeCodePreset: preset, backoff: { initialMs: 100, jitter: 0 } });
    assert.ok((await closeAndTime(channel, retried, "x")) !== null, `${retried}: reconnected`);
    await until(async () => (await page.evaluate(() => T.state(I)?.state)) === "open", "open again");
    assert.equal(await closeAndTime(channel, fatal, "x", 2000), null, `${fatal}: no reconnect`);
    assert.equal((await page.evaluate(() => T.state(I))).state, "closed");
    await context.close();
  });
}

test("preset: an unknown name is refused with the option named", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const err = await page.evaluate((url) => T.connectError({ url, closeCodePreset: "phoenix" }), server.ws("/ws/none"));
  assert.equal(err.code, "invalid-options");
  assert.match(err.message, /closeCodePreset/);
  assert.match(err.message, /pusher/);
  await context.close();
});
