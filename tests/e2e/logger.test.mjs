// The debug log end to end: a client's `logger` gets the engine's decisions from the worker
// (structured, token redacted); a client without one gets no log message at all; `debug:
// true` writes to the console; worker replacement is logged by the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

// Counts `{ t: "log" }` messages reaching any MessagePort listener of the page: what the
// worker posts to it, before tabmux loads.
const countLogPosts = () => {
  window.LOG_POSTS = 0;
  const add = MessagePort.prototype.addEventListener;
  MessagePort.prototype.addEventListener = function (type, fn, o) {
    if (type !== "message") return add.call(this, type, fn, o);
    return add.call(this, type, (e) => {
      if (e.data?.t === "log") window.LOG_POSTS++;
      fn(e);
    }, o);
  };
};

async function tab(context, init) {
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  await page.goto(`${server.http}/harness.html`);
  await page.waitForFunction(() => document.title === "ready");
  return page;
}

const connectWithLogger = (page, options) =>
  page.evaluate((o) => {
    window.LOGS = [];
    return T.connect({ ...o, logger: (e) => LOGS.push(e) });
  }, options);

for (const mode of ["shared", "direct"]) {
  test(`${mode}: the logger gets connect, open, close with its class and the retry's attempt and delay, token redacted; a tab without one gets no log message`, async () => {
    const ch = `log-${mode}`;
    const context = await browser.newContext();
    const a = await tab(context, countLogPosts);
    const b = await tab(context, countLogPosts);
    const options = { url: server.ws(`/ws/${ch}`), mode, heartbeat: false, backoff: { initialMs: 300, jitter: 0 } };
    await connectWithLogger(a, options);
    await b.evaluate((o) => T.connect(o), options);
    for (const p of [a, b]) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open");
    await a.evaluate(() => T.clients[0].c.setToken("s3cr3t-tok"));
    // The token reconnect: the socket carries it now.
    await until(async () => (await server.ctl("/control/stats")).accepts.filter((x) => x.channel === ch && x.query.includes("s3cr3t")).length >= 1, "a socket with the token");
    await until(() => a.evaluate(() => T.state(0)?.state === "open"), "open again");
    await server.ctl(`/control/close?channel=${ch}&code=1012&reason=${encodeURIComponent("restart s3cr3t-tok")}`);
    await until(() => a.evaluate(() => LOGS.filter((e) => e.event === "open").length >= 3), "open after the retry");
    const logs = await a.evaluate(() => LOGS);
    const events = logs.map((e) => e.event);
    assert.equal(events[0], "connect");
    assert.deepEqual(logs[0], { event: "connect", attempt: 0, url: options.url });
    assert.deepEqual(logs[1], { event: "open", protocol: null });
    const close = logs.find((e) => e.event === "close" && e.code === 1012);
    assert.deepEqual(close, { event: "close", code: 1012, reason: "restart ***", class: "retry" });
    const retry = logs.find((e) => e.event === "retry");
    assert.equal(retry.attempt, 1);
    assert.equal(retry.delayMs, 300, "backoff.initialMs with jitter 0");
    assert.equal(typeof retry.at, "number");
    const reconnect = logs.filter((e) => e.event === "connect").at(-1);
    assert.deepEqual(reconnect, { event: "connect", attempt: 1, url: `${options.url}?token=***` });
    assert.ok(!JSON.stringify(logs).includes("s3cr3t"), JSON.stringify(logs));
    if (mode === "shared") {
      assert.ok((await a.evaluate(() => LOG_POSTS)) >= logs.length, "the events came from the worker");
      assert.equal(await b.evaluate(() => LOG_POSTS), 0, "no log message is posted to a tab without a logger");
    }
    assert.deepEqual(await b.evaluate(() => T.clients[0].errors), [], "a logger is not a conflicting option");
    await context.close();
  });
}

test("debug: true writes the events to the console; the worker's replacement is logged by the page", async () => {
  const ch = "log-console";
  const workerUrl = "/dist-test/worker/shared-websocket-worker.js";
  const context = await browser.newContext();
  const a = await openTab(context, server);
  await a.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), workerUrl, heartbeat: false, debug: true });
  await until(() => a.evaluate(() => T.state(0)?.state === "open"), "open");
  await until(() => a.evaluate(() => LOG.filter((l) => l.level === "debug" && l.text.startsWith("tabmux:")).length >= 2), "connect and open in the console");
  // A second client of this page with a logger, to see the replacement.
  await connectWithLogger(a, { url: server.ws(`/ws/${ch}`), workerUrl, heartbeat: false });
  await until(() => a.evaluate(() => T.clients.at(-1).statuses.at(-1)?.state === "open"), "open");
  await a.evaluate((url) => {
    window.PANIC = new SharedWorker(url, { name: WORKER_NAME, extendedLifetime: true });
    PANIC.port.postMessage({ t: "panic" });
  }, workerUrl);
  await until(() => a.evaluate(() => LOGS.some((e) => e.event === "worker-replaced")), "the replacement logged", 15_000);
  const logs = await a.evaluate(() => LOGS.filter((e) => e.event.startsWith("worker-")));
  assert.equal(logs[0].event, "worker-lost");
  assert.match(logs[0].reason, /unreachable/);
  assert.equal(typeof logs[0].replaceInMs, "number");
  assert.deepEqual(logs[1], { event: "worker-replaced", generation: 1 });
  await context.close();
});
