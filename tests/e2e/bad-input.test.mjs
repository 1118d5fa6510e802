// Bad input through the public API and the real worker script: clear errors, nothing lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep, seqFrames } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

test("invalid options are thrown as errors with a code and a message naming the option", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const cases = [
    [{}, "tabmux: invalid options: missing field `url`"],
    [{ url: "http://127.0.0.1/ws" }, 'tabmux: invalid options: url must start with ws:// or wss://, got "http://127.0.0.1/ws"'],
    [{ url: server.ws(), mode: "bogus" }, "tabmux: invalid options: mode: unknown variant `bogus`, expected one of `auto`, `shared`, `direct`"],
    [{ url: server.ws(), reconnect: true }, "tabmux: invalid options: unknown field `reconnect`, expected one of `url`, `workerUrl`, `mode`, `workerTimeoutMs`, `backoff`, `closeCodes`, `closeCodePreset`, `connectTimeoutMs`, `breaker`, `heartbeat`, `token`, `dedup`, `sequence`, `topics`, `queue`, `replay`, `idleCloseMs`, `json`, `serverPing`, `protocols`, `debug`, `account`, `logger`"],
    [{ url: server.ws(), backoff: { initalMs: 5 } }, "tabmux: invalid options: unknown field `backoff.initalMs`, expected one of `backoff.initialMs`, `backoff.factor`, `backoff.maxMs`, `backoff.jitter`, `backoff.maxAttempts`, `backoff.minUptimeMs`"],
    [{ url: server.ws(), backoff: { maxMs: -1 } }, "tabmux: invalid options: backoff.maxMs: expected a whole number ≥ 0, got -1"],
    [{ url: server.ws(), backoff: { jitter: 1.25 } }, "tabmux: invalid options: backoff.jitter: jitter ratio must be between 0 and 1, got 1.25"],
  ];
  for (const [options, message] of cases) {
    assert.deepEqual(await page.evaluate((o) => T.connectError(o), options), { code: "invalid-options", message });
  }
  // A value that cannot cross to the worker (a function) is refused in the page, with the browser's reason.
  const fn = await page.evaluate((url) => T.connectError({ url, heartbeat: { intervalMs: () => 5 } }), server.ws());
  assert.deepEqual(fn, {
    code: "invalid-options",
    message: "tabmux: invalid options: options must be plain data (strings, numbers, booleans, objects, arrays): Failed to execute 'structuredClone' on 'Window': () => 5 could not be cloned.",
  });
  await context.close();
});

test("mode \"shared\": a worker script that does not load rejects connect() with a clear error (no fallback)", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const err = await page.evaluate((url) => T.connectError({ url, workerUrl: "/no-such-worker.js", mode: "shared" }), server.ws());
  assert.deepEqual(err, { code: "worker-failed", message: "tabmux: the shared worker script at /no-such-worker.js failed to load or run" });
  await context.close();
});

test("a page posting garbage to the worker gets errors back; the other tabs keep receiving", async () => {
  const context = await browser.newContext();
  const good = [await openTab(context, server), await openTab(context, server)];
  for (const p of good) await p.evaluate((url) => T.connect({ url }), server.ws("/ws/garbage"));
  for (const p of good) await until(() => p.evaluate(() => T.state(0)?.state === "open" && T.state(0).tabs === 2), "open");

  const evil = await openTab(context, server);
  const replies = await evil.evaluate(async () => {
    const open = () => {
      const w = new SharedWorker("/shared-websocket-worker.js", { name: WORKER_NAME, extendedLifetime: true });
      const got = [];
      w.port.onmessage = (e) => got.push(e.data);
      return { w, got };
    };
    const until = async (f) => {
      for (const end = Date.now() + 5000; !f() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    };
    // Anything but a hello, on one port: each refused, the port kept for its hello.
    const one = open();
    const junk = [42, null, true, [1, 2], {}, { t: 7 }, "frame before hello", new ArrayBuffer(8), { t: "x".repeat(100000) }, { t: "lock", lock: 5 }, { t: "lock", lock: "" }, { t: "lock" }];
    for (const j of junk) one.w.port.postMessage(j);
    // One reply each, and one more for [1, 2]: an array is a batch, carried out item by item.
    await until(() => one.got.length >= junk.length + 1);
    // Hellos that cannot be accepted, one port each (a refused hello's port is closed), a
    // huge one included: it must not break anything either.
    const hellos = [{ t: "hello" }, { t: "hello", v: 1, build: BUILD, tabId: "x", options: { url: 5 } }, { t: "hello", v: 1, tabId: "y".repeat(1 << 20), options: {} }];
    const refused = hellos.map((h) => {
      const p = open();
      p.w.port.postMessage(h);
      return p;
    });
    await until(() => refused.every((p) => p.got.length === 1));
    return { one: one.got.map((m) => m.code), refused: refused.map((p) => p.got.map((m) => m.code)) };
  });
  assert.deepEqual(replies.one, [
    "bad-message", "bad-message", "bad-message", "bad-message", "bad-message", "bad-message", "bad-message",
    "not-attached", "not-attached", "bad-message", "bad-message", "bad-message", "not-attached",
  ]);
  assert.deepEqual(replies.refused, [["bad-message"], ["invalid-options"], ["bad-message"]]);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=garbage&n=20");
  for (const p of good) {
    await until(() => p.evaluate(() => T.clients[0].messages.length >= 20), "20 frames");
    await sleep(50);
    assert.deepEqual(await p.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 19, "garbage"));
    assert.deepEqual(await p.evaluate(() => T.clients[0].errors), []);
  }
  assert.equal((await server.ctl("/control/stats")).byChannel.garbage, 1);
  await context.close();
});

test("a URL the WebSocket constructor refuses: the endpoint is closed with the browser's reason (1006); shared-mode tabs also get the open-failed error", async () => {
  const context = await browser.newContext();
  // Valid options (ws://, a host), but port 70000 makes the constructor throw a SyntaxError.
  const url = "ws://127.0.0.1:70000/ws";
  const reason = "Failed to construct 'WebSocket': The URL 'ws://127.0.0.1:70000/ws' is invalid.";
  for (const query of ["", "?nosw"]) {
    const page = await context.newPage();
    await page.goto(`${server.http}/harness.html${query}`);
    await page.waitForFunction(() => document.title === "ready");
    const { transport } = await page.evaluate((url) => T.connect({ url }), url);
    assert.equal(transport, query ? "direct" : "shared");
    await until(() => page.evaluate(() => T.state(0)?.state === "closed"), `closed (${transport})`);
    const { errors, last } = await page.evaluate(() => ({ errors: T.clients[0].errors, last: T.state(0) }));
    assert.deepEqual([last.lastClose, last.lastError], [{ code: 1006, reason }, reason]);
    if (transport === "shared") {
      await until(() => page.evaluate(() => T.clients[0].errors.length > 0), "the error");
      const errors = await page.evaluate(() => T.clients[0].errors);
      assert.deepEqual(errors, [{ code: "open-failed", message: `tabmux: the WebSocket could not be created: ${reason}` }]);
    } else {
      // In direct mode the engine runs inside connect(): the error is posted before connect()
      // resolves, so no listener can hear it; the status carries the reason.
      assert.deepEqual(errors, []);
    }
    await page.close();
  }
  await context.close();
});
