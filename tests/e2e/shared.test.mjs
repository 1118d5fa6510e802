// One socket per browser, shared by every tab: the foundation's end-to-end tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withServerAndBrowser, openTab, until, sleep, seqFrames } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

async function connectAll(pages, options) {
  const infos = [];
  for (const p of pages) infos.push(await p.evaluate((o) => T.connect(o), options));
  return infos;
}

const stateOf = (page, i = 0) => page.evaluate((i) => T.state(i), i);
const messagesOf = (page, i = 0) => page.evaluate((i) => T.clients[i].messages, i);

async function waitOpen(pages, tabs, i = 0) {
  for (const p of pages) {
    await until(async () => {
      const s = await stateOf(p, i);
      return s?.state === "open" && s.tabs === tabs;
    }, `state open with ${tabs} tabs`);
  }
}

test("3 tabs share 1 socket; every tab gets every frame once, in order; sends reach the server", async () => {
  const context = await browser.newContext();
  await server.ctl("/control/reset");
  const pages = [await openTab(context, server), await openTab(context, server), await openTab(context, server)];
  const infos = await connectAll(pages, { url: server.ws("/ws/three") });
  assert.deepEqual(infos.map((i) => i.transport), ["shared", "shared", "shared"]);
  assert.equal(new Set(infos.map((i) => i.tabId)).size, 3);
  await waitOpen(pages, 3);
  let stats = await server.ctl("/control/stats");
  assert.equal(stats.byChannel.three, 1);
  assert.equal(stats.accepts.filter((a) => a.channel === "three").length, 1);

  const { firstSeq } = await server.ctl("/control/broadcast?channel=three&n=200");
  const expected = seqFrames(firstSeq, firstSeq + 199, "three");
  for (const p of pages) await until(async () => (await messagesOf(p)).length >= 200, "200 frames");
  await sleep(200); // any duplicate would have arrived by now
  for (const p of pages) assert.deepEqual(await messagesOf(p), expected);

  await pages[1].evaluate(() => T.clients[0].c.send("hello from tab 2"));
  await until(async () => (await server.ctl("/control/stats")).received.some((r) => r.data === "hello from tab 2"), "frame at the server");
  stats = await server.ctl("/control/stats");
  assert.equal(stats.received.filter((r) => r.data === "hello from tab 2").length, 1);

  const tabStats = await pages[0].evaluate(() => T.clients[0].c.stats());
  assert.equal(tabStats.state, "open");
  assert.equal(tabStats.tabs, 3);
  assert.equal(tabStats.framesIn, 200);
  assert.equal(tabStats.framesOut, 1);
  assert.equal(tabStats.deliveries, 600);
  assert.equal(tabStats.transport, "shared");
  assert.ok(tabStats.memoryBytes > 0);
  await context.close();
});

test("a closed tab stops receiving and is no longer counted; the last tab closing closes the socket", async () => {
  const context = await browser.newContext();
  const pages = [await openTab(context, server), await openTab(context, server), await openTab(context, server)];
  await connectAll(pages, { url: server.ws("/ws/leave") });
  await waitOpen(pages, 3);
  await pages[2].close();
  await waitOpen(pages.slice(0, 2), 2);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=leave&n=5");
  for (const p of pages.slice(0, 2)) {
    await until(async () => (await messagesOf(p)).length >= 5, "5 frames");
    assert.deepEqual(await messagesOf(p), seqFrames(firstSeq, firstSeq + 4, "leave"));
  }
  assert.equal((await server.ctl("/control/stats")).byChannel.leave, 1);
  await pages[0].close();
  await waitOpen([pages[1]], 1);
  await pages[1].close();
  await until(async () => !(await server.ctl("/control/stats")).byChannel.leave, "server sees the socket close");
  await context.close();
});

test("a second browser context is a second browser: 2 connections", async () => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pa = [await openTab(a, server), await openTab(a, server)];
  const pb = [await openTab(b, server), await openTab(b, server)];
  await connectAll([...pa, ...pb], { url: server.ws("/ws/ctx") });
  await waitOpen(pa, 2);
  await waitOpen(pb, 2);
  assert.equal((await server.ctl("/control/stats")).byChannel.ctx, 2);
  await a.close();
  await b.close();
});

test("without SharedWorker each tab falls back to its own direct socket, same API", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    delete globalThis.SharedWorker;
  });
  const pages = [await openTab(context, server), await openTab(context, server)];
  const infos = await connectAll(pages, { url: server.ws("/ws/direct") });
  assert.deepEqual(infos.map((i) => i.transport), ["direct", "direct"]);
  await waitOpen(pages, 1);
  assert.equal((await server.ctl("/control/stats")).byChannel.direct, 2);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=direct&n=50");
  for (const p of pages) {
    await until(async () => (await messagesOf(p)).length >= 50, "50 frames");
    assert.deepEqual(await messagesOf(p), seqFrames(firstSeq, firstSeq + 49, "direct"));
  }
  await pages[0].evaluate(() => T.clients[0].c.send("direct hello"));
  await until(async () => (await server.ctl("/control/stats")).received.some((r) => r.data === "direct hello"), "direct send at the server");
  const st = await pages[0].evaluate(() => T.clients[0].c.stats());
  assert.equal(st.transport, "direct");
  assert.equal(st.framesIn, 50);
  assert.equal(st.framesOut, 1);
  await context.close();
  await until(async () => !(await server.ctl("/control/stats")).byChannel.direct, "direct sockets closed");
});

test("two endpoint URLs from the same tabs: 2 sockets, frames not mixed", async () => {
  const context = await browser.newContext();
  const pages = [await openTab(context, server), await openTab(context, server)];
  await connectAll(pages, { url: server.ws("/ws/a") });
  await connectAll(pages, { url: server.ws("/ws/b") });
  await waitOpen(pages, 2, 0);
  await waitOpen(pages, 2, 1);
  const stats = await server.ctl("/control/stats");
  assert.equal(stats.byChannel.a, 1);
  assert.equal(stats.byChannel.b, 1);
  const a = await server.ctl("/control/broadcast?channel=a&n=3");
  const b = await server.ctl("/control/broadcast?channel=b&n=2");
  for (const p of pages) {
    await until(async () => (await messagesOf(p, 0)).length >= 3 && (await messagesOf(p, 1)).length >= 2, "frames on both");
    await sleep(100);
    assert.deepEqual(await messagesOf(p, 0), seqFrames(a.firstSeq, a.firstSeq + 2, "a"));
    assert.deepEqual(await messagesOf(p, 1), seqFrames(b.firstSeq, b.firstSeq + 1, "b"));
  }
  await context.close();
});

test("a shared-mode page never fetches the direct-mode module; a direct-mode page fetches it and no worker", async () => {
  // What each page fetched, from the server's log of served files (favicon aside).
  const fetched = async () => [...new Set((await server.ctl("/control/stats")).files)].filter((f) => f !== "/favicon.ico").sort();
  const direct = ["/dist/direct/tabmux_direct.js", "/dist/direct/tabmux_direct_bg.wasm"];
  const thin = ["/dist/index.js", "/dist/tab/build-id.js", "/dist/tab/tabmux_tab.js", "/dist/tab/tabmux_tab_bg.wasm", "/harness-pre.js", "/harness.html", "/harness.js"];
  const worker = ["/shared-websocket-worker.js", "/tabmux_worker.js", "/tabmux_worker_bg.wasm"];

  await server.ctl("/control/reset");
  const shared = await browser.newContext();
  const s = await openTab(shared, server);
  await connectAll([s], { url: server.ws("/ws/fetch-shared") });
  await waitOpen([s], 1);
  assert.deepEqual(await fetched(), [...thin, ...worker].sort());
  await shared.close();

  await server.ctl("/control/reset");
  const own = await browser.newContext();
  const d = await openTab(own, server);
  const infos = await connectAll([d], { url: server.ws("/ws/fetch-direct"), mode: "direct" });
  assert.deepEqual(infos.map((i) => i.transport), ["direct"]);
  await waitOpen([d], 1);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=fetch-direct&n=5");
  await until(async () => (await messagesOf(d)).length >= 5, "5 frames");
  assert.deepEqual(await messagesOf(d), seqFrames(firstSeq, firstSeq + 4, "fetch-direct"));
  assert.deepEqual(await fetched(), [...thin, ...direct].sort());
  await own.close();
});

test("1,000 clients connected and closed in a page: the page's and the worker's wasm memory stay flat", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  // One client stays (it reads the worker's memory); the others come and go.
  await page.evaluate((url) => T.connect({ url, heartbeat: false }), server.ws("/ws/churn"));
  const measure = () =>
    page.evaluate(async () => {
      // The page module's own wasm instance (init() returns its exports once loaded; no hook
      // needed). The build gives exports short names, so the memory is found by its type.
      const tab = await (await import("/dist/tab/tabmux_tab.js")).default();
      const memory = Object.values(tab).find((v) => v instanceof WebAssembly.Memory);
      return { page: memory.buffer.byteLength, worker: (await T.clients[0].c.stats()).memoryBytes };
    });
  const cycle = (n, url) =>
    page.evaluate(
      async ({ n, url }) => {
        const { connect } = await import("/dist/index.js");
        for (let i = 0; i < n; i++) {
          const c = await connect({ url, heartbeat: false });
          c.on("message", () => {});
          c.subscribe("t", () => {});
          c.close();
        }
      },
      { n, url },
    );
  await cycle(100, server.ws("/ws/churn")); // warm-up: the allocators reach their working size
  const before = await measure();
  await cycle(1000, server.ws("/ws/churn"));
  await sleep(500); // the last goodbyes and lock grants
  const after = await measure();
  // Before close() freed the wasm side itself, each closed client waited for the garbage
  // collector's finalizer: the page's memory grew 1.31 → 1.64 MB over 3,000 cycles.
  assert.deepEqual(after, before, `memory grew: ${JSON.stringify({ before, after })}`);
  assert.equal((await page.evaluate(() => T.state(0))).tabs, 1);
  await context.close();
});

test("1,000 worker replacements in a page (10 clients, 100 worker panics): the page's wasm memory stays flat", async () => {
  // Each replacement makes a new link, port listeners and life-lock waits in every client; a
  // closure kept per replacement would show here (a lock request that is never granted, or a
  // watch dropped without its callbacks being freed).
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const workerUrl = "/dist-test/worker/shared-websocket-worker.js";
  await page.evaluate(
    async ({ url, workerUrl }) => {
      const { connect } = await import("/dist/index.js");
      window.CLIENTS = [];
      window.CRASHES = 0;
      for (let i = 0; i < 10; i++) {
        const c = await connect({ url, heartbeat: false, workerUrl });
        c.on("error", (e) => {
          if (e.code === "worker-crashed") CRASHES++;
        });
        CLIENTS.push(c);
      }
    },
    { url: server.ws("/ws/replace"), workerUrl },
  );
  const replace = (n) =>
    page.evaluate(
      async ({ n, workerUrl }) => {
        const wait = (c, pred) =>
          new Promise((resolve) => {
            const off = c.on("status", (s) => {
              if (pred(s)) {
                off();
                resolve();
              }
            });
          });
        for (let k = 0; k < n; k++) {
          const lost = CLIENTS.map((c) => wait(c, (s) => s.state === "reconnecting").then(() => wait(c, (s) => s.state === "open")));
          const w = new SharedWorker(workerUrl, { name: WORKER_NAME, extendedLifetime: true });
          w.port.postMessage({ t: "panic" });
          await Promise.all(lost);
          w.port.close();
        }
        return { crashes: CRASHES, tabs: CLIENTS.map((c) => c.status.tabs) };
      },
      { n, workerUrl },
    );
  // The page module's own wasm memory (found by type: the build gives exports short names).
  const memory = () =>
    page.evaluate(async () => Object.values(await (await import("/dist/tab/tabmux_tab.js")).default()).find((v) => v instanceof WebAssembly.Memory).buffer.byteLength);
  assert.deepEqual(await replace(10), { crashes: 100, tabs: Array(10).fill(1) }); // warm-up
  const before = await memory();
  const t0 = Date.now();
  assert.deepEqual(await replace(100), { crashes: 1100, tabs: Array(10).fill(1) });
  const after = await memory();
  console.log(`# 100 worker replacements of 10 clients in ${Date.now() - t0} ms; page wasm memory ${before} → ${after} B`);
  assert.equal(after, before, "the page's wasm memory grew");
  // The clients still work on the last replacement.
  await page.evaluate(() => {
    window.GOT = [];
    for (const c of CLIENTS) c.on("message", (d) => GOT.push(d));
  });
  const { firstSeq } = await server.ctl("/control/broadcast?channel=replace&n=1");
  await until(() => page.evaluate(() => GOT.length === 10), "a frame in every client");
  assert.deepEqual(await page.evaluate(() => GOT), Array(10).fill(seqFrames(firstSeq, firstSeq, "replace")[0]));
  await context.close();
});

test("wrong argument types: each call says what it takes with a coded error, and the client goes on working", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const got = await page.evaluate(async (url) => {
    const { connect } = await import("/dist/index.js");
    const c = await connect({ url, heartbeat: false });
    const seen = [];
    const grab = async (f) => {
      try {
        const r = await f();
        seen.push(`returned ${typeof r === "function" ? "a function" : r}`);
      } catch (e) {
        seen.push(`${e.code}: ${e.message}`);
      }
    };
    await grab(() => c.on(7, () => {}));
    await grab(() => c.on("mesage", () => {}));
    await grab(() => c.on("message", "not a function"));
    await grab(() => c.on("status", () => {}, { exclusive: true }));
    await grab(() => c.subscribe(42, () => {}));
    await grab(() => c.subscribe("", () => {}));
    await grab(() => c.subscribe("t", {}));
    await grab(() => c.history(3));
    await grab(() => c.setToken(5));
    await grab(() => c.send({}));
    // The client still works after those errors: a listener added and removed, a send.
    await grab(() => c.on("message", () => {})());
    await grab(() => c.send("still works"));
    c.close();
    return seen;
  }, server.ws("/ws/types"));
  const expected = '(expected "message", "status", "error", "gap" or "leader")';
  assert.deepEqual(got, [
    `invalid-options: tabmux: invalid options: the event must be a string ${expected}`,
    `invalid-options: tabmux: invalid options: unknown event "mesage" ${expected}`,
    "bad-message: tabmux: bad message to the worker: on takes a function as the listener",
    'invalid-options: tabmux: invalid options: exclusive is for "message" listeners',
    "topic: tabmux: a topic must be a string of 1 to 256 bytes",
    "topic: tabmux: a topic must be a string of 1 to 256 bytes",
    "bad-message: tabmux: bad message to the worker: subscribe takes a function as the handler",
    "bad-message: tabmux: bad message to the worker: history takes a topic string, or nothing",
    "bad-message: tabmux: bad message to the worker: setToken takes a string, or null to sign out",
    "bad-message: tabmux: bad message to the worker: send takes a string, an ArrayBuffer or a typed array",
    "returned true",
    "returned undefined",
  ]);
  await context.close();
});

test("a closed client: every call says so with the same coded error; status and ids stay readable; close() again does nothing", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const got = await page.evaluate(async (url) => {
    const { connect } = await import("/dist/index.js");
    const c = await connect({ url, heartbeat: false });
    const ids = [c.transport, typeof c.clientId, c.tabId.length > 0];
    c.close();
    const seen = [];
    const grab = async (f) => {
      try {
        await f();
        seen.push("no error");
      } catch (e) {
        seen.push(`${e.code}: ${e.message}`);
      }
    };
    await grab(() => c.on("message", () => {}));
    await grab(() => c.send("x"));
    await grab(() => c.sendJson({}));
    await grab(() => c.subscribe("t", () => {}));
    await grab(() => c.history());
    await grab(() => c.stats());
    await grab(() => c.reconnect());
    await grab(() => c.setToken("t"));
    await grab(() => c.close());
    return { ids, after: [c.transport, typeof c.clientId, c.tabId.length > 0], seen };
  }, server.ws("/ws/closed"));
  const closed = "bad-message: tabmux: bad message to the worker: this client is closed";
  assert.deepEqual(got, {
    ids: ["shared", "number", true],
    after: ["shared", "number", true],
    seen: [closed, closed, closed, closed, closed, closed, closed, closed, "no error"],
  });
  await context.close();
});
