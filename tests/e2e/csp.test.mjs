// A strict Content-Security-Policy, sent by the dev server with every response (the page,
// the worker script, the wasm): the minimal policy of the README works in shared and direct
// mode; without 'wasm-unsafe-eval' connect() says what to add; a policy that blocks the
// worker makes mode "auto" fall back to direct.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openTab, until, seqFrames } from "./helpers.mjs";

// Exactly the README's minimal policy ({ws-origin}: the dev server's ws://127.0.0.1:PORT).
const MINIMAL = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' {ws-origin}";
const NO_WASM = "script-src 'self'; worker-src 'self'; connect-src 'self' {ws-origin}";
const NO_WORKER = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'; connect-src 'self' {ws-origin}";
// connect-src with the socket's origin only: the wasm files (fetched) are refused.
const SOCKET_ONLY = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src {ws-origin}";

let browser;
before(async () => (browser = await launchBrowser()));
after(async () => browser?.close());

async function withPolicy(policy, fn) {
  const server = await startServer({ extra: ["--csp", policy] });
  const context = await browser.newContext();
  const violations = [];
  context.on("console", (m) => /Content Security Policy/.test(m.text()) && violations.push(m.text()));
  try {
    const page = await openTab(context, server);
    const sent = await (await fetch(`${server.http}/harness.html`)).headers.get("content-security-policy");
    assert.equal(sent, policy.replace("{ws-origin}", `ws://127.0.0.1:${server.port}`));
    await fn(page, server, violations);
  } finally {
    await context.close();
    await server.stop();
  }
}

async function receives(page, server, ch) {
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  assert.equal((await server.ctl("/control/stats")).byChannel[ch], 1);
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=3`);
  await until(() => page.evaluate(() => T.clients[0].messages.length === 3), "3 frames");
  assert.deepEqual(await page.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 2, ch));
}

test("the minimal policy: shared mode runs (worker, its wasm, the socket), no violation", async () => {
  await withPolicy(MINIMAL, async (page, server, violations) => {
    const info = await page.evaluate((url) => T.connect({ url }), server.ws("/ws/csp"));
    assert.equal(info.transport, "shared");
    await receives(page, server, "csp");
    assert.deepEqual(await page.evaluate(() => T.clients[0].errors), []);
    assert.deepEqual(violations, []);
  });
});

test("the minimal policy: direct mode runs, no violation", async () => {
  await withPolicy(MINIMAL, async (page, server, violations) => {
    const info = await page.evaluate((url) => T.connect({ url, mode: "direct" }), server.ws("/ws/csp"));
    assert.equal(info.transport, "direct");
    await receives(page, server, "csp");
    assert.deepEqual(violations, []);
  });
});

test("without 'wasm-unsafe-eval' connect() rejects with wasm-blocked, naming what to add", async () => {
  await withPolicy(NO_WASM, async (page, server) => {
    for (const mode of ["auto", "direct"]) {
      const err = await page.evaluate((o) => T.connectError(o), { url: server.ws("/ws/csp"), mode });
      assert.equal(err?.code, "wasm-blocked", mode);
      assert.match(err.message, /^tabmux: this page's Content-Security-Policy does not allow WebAssembly: add 'wasm-unsafe-eval' to script-src \(the browser said: .+\)$/);
    }
    assert.equal((await server.ctl("/control/stats")).byChannel.csp, undefined);
  });
});

test("connect-src without 'self' (only the socket's origin): connect() rejects with load-failed, naming what to add", async () => {
  await withPolicy(SOCKET_ONLY, async (page, server, violations) => {
    const err = await page.evaluate((o) => T.connectError(o), { url: server.ws("/ws/csp") });
    assert.equal(err?.code, "load-failed");
    assert.equal(err.message, "tabmux: the client's wasm could not be fetched; under a Content-Security-Policy, connect-src must allow where it is served from (add 'self') (the browser said: Failed to fetch)");
    await until(() => violations.some((v) => /connect-src/.test(v)), "the browser's own report of the violation");
  });
});

test("a policy that blocks the worker (worker-src 'none'): auto falls back to direct, shared rejects", async () => {
  await withPolicy(NO_WORKER, async (page, server) => {
    const err = await page.evaluate((o) => T.connectError(o), { url: server.ws("/ws/csp"), mode: "shared" });
    assert.deepEqual(err, { code: "worker-failed", message: "tabmux: the shared worker script at /shared-websocket-worker.js failed to load or run" });
    const info = await page.evaluate((url) => T.connect({ url }), server.ws("/ws/csp"));
    assert.equal(info.transport, "direct");
    const errors = await page.evaluate(() => T.clients[0].errors);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, "worker-failed");
    await receives(page, server, "csp");
  });
});
