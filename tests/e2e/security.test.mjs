// Security, end to end, in Chromium: a page served over https that asks for ws:// gets a clear
// error (loopback exempt, exactly as the browser's WebSocket constructor decides). It needs
// Playwright's request routing (a secure origin served by the dev server), so it stays here; the
// other security tests (the token and the credentials of a URL redacted everywhere, the dev
// server answering no other origin, a hostile page against the worker's bounds) run in every
// engine: tests/engines/security.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser } from "./helpers.mjs";

let server, browser;
// https://tabmux.test (below) stands for a deployment whose pages are served by this server:
// the dev server answers only its own origin and those named with --allow-origin.
withServerAndBrowser((s, b) => ([server, browser] = [s, b]), { extra: ["--allow-origin", "https://tabmux.test"] });

/** A context where https://tabmux.test/ serves what the dev server serves: a secure origin. */
async function httpsContext() {
  const context = await browser.newContext();
  await context.route("https://tabmux.test/**", async (route) => {
    const { pathname, search } = new URL(route.request().url());
    route.fulfill({ response: await route.fetch({ url: `${server.http}${pathname}${search}` }) });
  });
  const page = await context.newPage();
  await page.goto("https://tabmux.test/harness.html");
  await page.waitForFunction(() => document.title === "ready");
  return { context, page };
}

test("an https page asking for ws:// gets invalid-options naming the fix (its query left out); loopback is exempt, as in the browser's own constructor", async () => {
  const { context, page } = await httpsContext();
  assert.deepEqual(await page.evaluate(() => [location.protocol, isSecureContext]), ["https:", true]);
  assert.deepEqual(await page.evaluate((o) => T.connectError(o), { url: "ws://example.invalid/ws?room=1" }), {
    code: "invalid-options",
    message:
      "tabmux: invalid options: url is ws:// but this page is served over https: the browser blocks an insecure WebSocket from a secure page (mixed content); use wss://example.invalid/ws?***",
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
