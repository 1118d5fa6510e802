// A browser's real life, in Chromium against the real dev server and the real worker script:
// a reload or a same-site navigation of the only tab keeps the socket (the worker's extended
// lifetime and idleCloseMs) and loses no frame; steps of the OS clock change no decision (the
// engine's clock is monotonic), in the worker and in a direct-mode page; no duration option
// can make a timer spin; a worker ended mid-stream is replaced and resumes where the tabs were.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { CLOCK, ENDER, NEVER, TIMERS, openTab, sleep, timersFired, until, withServerAndBrowser, workerCopy } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ((server = s), (browser = b)));

// Copies of the release worker whose script first wraps a global (helpers.mjs: workerCopy).
const PRELUDES = { clock: CLOCK, timers: TIMERS, ender: ENDER };

before(() => {
  for (const [name, prelude] of Object.entries(PRELUDES)) workerCopy(name, prelude);
});

const accepted = async (channel) => (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === channel && !a.refused).length;

/** In the page: connects with `options`, appends every frame's seq to sessionStorage (which
 * survives a reload and a same-origin navigation of the tab) and resolves with the ms from
 * connect() to the first frame. */
async function connectRecording(page, options) {
  return page.evaluate(async (options) => {
    const t0 = performance.now();
    const { index } = await T.connect(options, { countOnly: true });
    return new Promise((resolve) => {
      let first = true;
      T.clients[index].c.on("message", (d) => {
        sessionStorage.setItem("seqs", (sessionStorage.getItem("seqs") ?? "") + JSON.parse(d).seq + ",");
        if (first) resolve(performance.now() - t0);
        first = false;
      });
    });
  }, options);
}

const seqsOf = (page) => page.evaluate(() => (sessionStorage.getItem("seqs") ?? "").split(",").filter(Boolean).map(Number));

test("Chromium: a reload and a same-site navigation of the only tab keep the socket and lose no frame", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const options = { url: server.ws("/ws/life"), replay: { frames: 1000 } };
  // 100 frames/s for 7 s: the first page joins while they flow, then reloads, then navigates.
  await server.ctl("/control/ticker?channel=life&ms=10&count=700&size=60");
  const cold = await connectRecording(page, options);
  await sleep(1500);
  await page.reload();
  await page.waitForFunction(() => document.title === "ready");
  const afterReload = await connectRecording(page, options);
  await sleep(1500);
  await page.goto(`${server.http}/harness.html?another-page`);
  await page.waitForFunction(() => document.title === "ready");
  const afterNavigation = await connectRecording(page, options);
  const seqs = await until(async () => {
    const s = await seqsOf(page);
    return s.at(-1) === 700 && s;
  }, "the last frame recorded", 20_000);
  // Frames sent before the first page's socket opened went to no one; from its first frame
  // on, every one arrived once, in order, across two page loads.
  const first = seqs[0];
  assert.ok(first < 100, `the first page's first frame is ${first}`);
  assert.deepEqual(seqs, Array.from({ length: 701 - first }, (_, i) => i + first), "every frame once, in order");
  assert.equal(await accepted("life"), 1, "one handshake for the whole session");
  const st = await server.ctl("/control/stats");
  assert.equal(st.received.filter((r) => r.channel === "life").length, 0, "nothing else reached the server (no frame, no resubscribe)");
  // The same path with the bare JS SharedWorker of the benchmarks (bench/bare-worker.js), which
  // dies with its only page and connects again after a reload.
  const bareContext = await browser.newContext();
  const bare = await openTab(bareContext, server);
  const bareNext = () =>
    bare.evaluate(
      (url) =>
        new Promise((resolve) => {
          const t0 = performance.now();
          const w = new SharedWorker("/bench/bare-worker.js", { name: "bare-reload" });
          window.BARE = w;
          w.port.onmessage = (e) => typeof e.data === "string" && resolve(performance.now() - t0);
          w.port.postMessage({ t: "hello", url });
        }),
      server.ws("/ws/bare-life"),
    );
  await server.ctl("/control/ticker?channel=bare-life&ms=10&count=300&size=60");
  const bareCold = await bareNext();
  await bare.reload();
  await bare.waitForFunction(() => document.title === "ready");
  const bareReload = await bareNext();
  await bareContext.close();
  console.log(
    `connect() to the next frame at 100 frames/s: tabmux cold ${cold.toFixed(1)} ms, after a reload ${afterReload.toFixed(1)} ms, after a navigation ${afterNavigation.toFixed(1)} ms; ` +
      `bare JS worker cold ${bareCold.toFixed(1)} ms, after a reload ${bareReload.toFixed(1)} ms (${await accepted("bare-life")} handshakes)`,
  );
  await context.close();
});

test("Chromium: with no page back, the socket closes idleCloseMs after the last page left", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  await page.evaluate((url) => T.connect({ url, idleCloseMs: 1000 }), server.ws("/ws/gone"));
  await until(async () => (await server.ctl("/control/stats")).byChannel.gone === 1, "the socket open");
  const left = Date.now();
  await page.goto("about:blank");
  await until(async () => !(await server.ctl("/control/stats")).byChannel.gone, "the socket closed", 10_000);
  const after = Date.now() - left;
  assert.ok(after >= 900, `closed ${after} ms after the page left: not before idleCloseMs`);
  const close = (await server.ctl("/control/stats")).closes.filter((c) => c.channel === "gone").at(-1);
  assert.equal(close.code, 1000);
  await context.close();
});

/** Shifts the worker's (or the page's) wall clock by `ms` from now on. */
const stepClock = (page, ms) => page.evaluate((ms) => new BroadcastChannel("tabmux-test-clock").postMessage(ms), ms);

async function clockSteps(page, channel, { direct }) {
  const options = { url: server.ws(`/ws/${channel}`), heartbeat: { intervalMs: 1000, timeoutMs: 800 }, backoff: { initialMs: 500, maxMs: 1000 } };
  if (direct) options.mode = "direct";
  else options.workerUrl = "/dist-test/clock/shared-websocket-worker.js";
  const { index, transport } = await page.evaluate((o) => T.connect(o), options);
  assert.equal(transport, direct ? "direct" : "shared");
  await until(async () => (await page.evaluate((i) => T.state(i)?.state, index)) === "open", "open");
  // Back one hour: pings go on, the socket stays; a server close is retried within the backoff.
  await stepClock(page, -3_600_000);
  await sleep(2500);
  assert.equal(await accepted(channel), 1, "a healthy socket is not closed when the clock steps back");
  const closedAt = Date.now();
  await server.ctl(`/control/close?channel=${channel}&code=1012`);
  await until(async () => (await accepted(channel)) === 2, "back after the 1012", 5000);
  const back = Date.now() - closedAt;
  // Forward two hours: nothing is due early; the socket stays.
  await stepClock(page, 3_600_000);
  await sleep(2500);
  assert.equal(await accepted(channel), 2, "a healthy socket is not closed when the clock steps forward");
  assert.equal(await page.evaluate((i) => T.state(i)?.state, index), "open");
  // The status shows wall time as the stepped clock reads it: lastHeartbeatAt is now-ish
  // (in shared mode only the worker's clock was stepped, not this page's).
  const skew = direct ? 0 : 3_600_000;
  const seen = await page.evaluate((i) => ({ at: T.state(i).lastHeartbeatAt, now: Date.now() }), index);
  assert.ok(seen.at !== null && Math.abs(seen.at - seen.now - skew) < 5000, `lastHeartbeatAt ${seen.at} vs the clock's ${seen.now + skew}`);
  return back;
}

test("Chromium: OS clock steps of an hour inside the worker change no decision", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const back = await clockSteps(page, "clock-shared", { direct: false });
  console.log(`shared: back ${back} ms after a 1012 with the clock stepped back an hour`);
  await context.close();
});

test("Chromium: OS clock steps of an hour inside a direct-mode page change no decision", async () => {
  const context = await browser.newContext();
  // The page's own Date.now, wrapped before tabmux loads.
  await context.addInitScript(CLOCK);
  const page = await openTab(context, server);
  const back = await clockSteps(page, "clock-direct", { direct: true });
  console.log(`direct: back ${back} ms after a 1012 with the clock stepped back an hour`);
  await context.close();
});

test("Chromium: Number.MAX_SAFE_INTEGER in every duration option leaves the worker idle (no timer spins)", async () => {
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const options = { url: server.ws("/ws/forever"), workerUrl: "/dist-test/timers/shared-websocket-worker.js", ...NEVER };
  const { index } = await page.evaluate((o) => T.connect(o), options);
  await until(async () => (await page.evaluate((i) => T.state(i)?.state, index)) === "open", "open");
  const fired = () => page.evaluate(timersFired);
  const start = await fired();
  await sleep(5000);
  assert.equal((await fired()) - start, 0, "no timer callback ran in 5 s");
  // It still works: frames go through.
  await server.ctl("/control/broadcast?channel=forever&n=3");
  await until(() => page.evaluate((i) => T.clients[i].messages.length === 3, index), "3 frames");
  assert.equal((await fired()) - start, 0);
  await context.close();
});

test("Chromium: a worker ended mid-stream (10,000 frames at 1,000/s, sequence on): the replacement resumes from the tabs' last numbers, every tab has every number once, in order, no gap", async () => {
  const context = await browser.newContext();
  const options = {
    url: `${server.ws("/ws/resume")}?replay=1`,
    workerUrl: "/dist-test/ender/shared-websocket-worker.js",
    sequence: { key: "/seq" },
    heartbeat: false,
  };
  const pages = [];
  for (let i = 0; i < 3; i++) pages.push(await openTab(context, server));
  for (const p of pages) {
    await p.evaluate(async (o) => {
      const { index } = await T.connect(o, { countOnly: true });
      window.SEQS = [];
      T.clients[index].c.on("message", (d) => SEQS.push(JSON.parse(d).seq));
    }, options);
  }
  await until(async () => (await server.ctl("/control/stats")).byChannel.resume === 1, "one socket");
  await server.ctl("/control/ticker?channel=resume&ms=1&count=10000&size=80");
  await until(() => pages[0].evaluate(() => SEQS.length > 3000), "3,000 frames in", 20_000);
  // The browser ends the worker (as Android does under memory pressure): a served copy of the
  // script closes itself on a BroadcastChannel message.
  await pages[0].evaluate(() => new BroadcastChannel("tabmux-test-end").postMessage("end"));
  const all = [];
  for (const p of pages) {
    all.push(
      await until(async () => {
        const s = await p.evaluate(() => SEQS);
        return s.at(-1) === 10_000 && s;
      }, "the last frame in every tab", 30_000),
    );
  }
  for (const [i, seqs] of all.entries()) {
    const first = seqs[0];
    assert.ok(first < 50, `tab ${i}: first ${first}`);
    const broken = seqs.findIndex((n, j) => n !== first + j);
    assert.equal(broken, -1, `tab ${i}: every number once, in order (at index ${broken}: ${seqs.slice(Math.max(0, broken - 2), broken + 3)})`);
    assert.equal(seqs.length, 10_001 - first);
    assert.deepEqual(await pages[i].evaluate(() => T.clients[0].gaps), [], `tab ${i}: no gap`);
  }
  const accepts = (await server.ctl("/control/stats")).accepts.filter((a) => a.channel === "resume");
  assert.equal(accepts.length, 2, "one socket per worker");
  console.log(`resumed with ${accepts[1].query}`);
  await context.close();
});
