// Security, end to end: a page served over https that asks for ws:// gets a clear error
// (loopback exempt, exactly as the browser's WebSocket constructor decides); the token never reaches
// status, stats, errors or the console, even when the server echoes it in a close reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

/** A context where https://tabmux.test/ serves what the dev server serves: a secure origin. */
async function httpsContext() {
  const context = await browser.newContext();
  await context.route("https://tabmux.test/**", async (route) => {
    const { pathname, search } = new URL(route.request().url());
    route.fulfill({ response: await route.fetch({ url: `${server.http}${pathname}${search}` }) });
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto("https://tabmux.test/harness.html");
  await page.waitForFunction(() => document.title === "ready");
  return { context, page };
}

test("an https page asking for ws:// gets invalid-options naming the fix; loopback is exempt, as in the browser's own constructor", async () => {
  const { context, page } = await httpsContext();
  assert.deepEqual(await page.evaluate(() => [location.protocol, isSecureContext]), ["https:", true]);
  assert.deepEqual(await page.evaluate((o) => T.connectError(o), { url: "ws://example.invalid/ws?room=1" }), {
    code: "invalid-options",
    message:
      "tabmux: invalid options: url is ws:// but this page is served over https: the browser blocks an insecure WebSocket from a secure page (mixed content); use wss://example.invalid/ws?room=1",
  });
  // The rule is the browser's: its own constructor refuses the remote host and lets loopback through.
  const browserSays = await page.evaluate((local) =>
    ["ws://example.invalid/ws", local].map((u) => {
      try {
        new WebSocket(u).close();
        return "allowed";
      } catch (e) {
        return e.name;
      }
    }), server.ws("/ws/https"));
  assert.deepEqual(browserSays, ["SecurityError", "allowed"]);
  // (That loopback socket would then meet Chromium's separate Local Network Access check,
  // which a public page cannot pass without a permission: a failed connect, retried.)
  await context.close();
});

test("the token never appears in status, stats, errors or the console, even in a close reason", async () => {
  const secret = "s3cret tok/én"; // percent-encoded in the URL: both forms must stay hidden
  const forms = [secret, encodeURIComponent(secret)];
  const ch = "secret";
  const context = await browser.newContext();
  const console_ = [];
  const pages = [await openTab(context, server), await openTab(context, server)];
  for (const p of pages) p.on("console", (m) => console_.push(m.text()));
  for (const p of pages) await p.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 100 } });
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open");
  await pages[0].evaluate((t) => T.clients[0].c.setToken(t), secret);
  const accepts = async () => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === ch);
  // The server does get the token (so there is something to leak)…
  await until(async () => (await accepts()).length === 2, "the reconnect with the token");
  assert.equal((await accepts())[1].query, `token=${encodeURIComponent(secret)}`);
  // …and echoes it back in a close reason, as careless servers do.
  await server.ctl(`/control/close?channel=${ch}&code=4000&reason=${encodeURIComponent(`bad token ${secret}`)}`);
  await until(async () => (await accepts()).length === 3, "the reconnect after the close");
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open again");
  // A refused send and an invalid subscribe put errors on the record too.
  for (const p of pages) await p.evaluate(() => { try { T.clients[0].c.subscribe("x", () => {}); } catch (e) { T.clients[0].errors.push({ code: e.code, message: e.message }); } });
  for (const p of pages) {
    const seen = await p.evaluate(async () => ({
      statuses: T.clients[0].statuses,
      stats: await T.clients[0].c.stats(),
      errors: T.clients[0].errors,
      html: document.documentElement.outerHTML,
    }));
    assert.ok(seen.statuses.some((s) => s.lastClose?.code === 4000 && s.lastClose.reason === "bad token ***"), "the reason arrived, redacted");
    assert.deepEqual(seen.errors.map((e) => e.code), ["topic"]);
    const all = JSON.stringify(seen) + console_.join("\n");
    for (const f of forms) assert.ok(!all.includes(f), `${JSON.stringify(f)} leaked`);
  }
  await context.close();
});
