// The end-to-end scenarios that run in every engine, each written once against the adapter
// (tests/engines/adapter.mjs). Each gets a fresh dev server (a new port: a new origin, so a
// new SharedWorker and clean server logs) and closes every tab it opened, even on failure.
//
// `notIn: { engine: why }` names an engine where the scenario cannot run: the suite prints
// `NOT RUN in <engine>: <scenario>: <why>` and reports it as skipped with that reason.
import assert from "node:assert/strict";
import { join } from "node:path";
import { until, sleep, seqFrames, root, workerCopy, CLOCK, ENDER, NEVER, TIMERS, timersFired } from "../e2e/helpers.mjs";
import { securityScenarios } from "./security.mjs";
import { identityScenarios } from "./identity.mjs";
import { overlaps, nextLeader, samples, handled } from "../e2e/lead-check.mjs";

const topicsOpt = { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' };
const sub = (t) => `{"type":"subscribe","topic":"${t}"}`;
const unsub = (t) => `{"type":"unsubscribe","topic":"${t}"}`;

// Browsers keep no `no-store` page (the dev server's default) in the back/forward cache.
const bfServer = { extra: ["--cache-control", "no-cache"] };
// The page a tab leaves for: it arrives 200 ms later, as over a network (browsers decide what
// to keep when the next page arrives; on 127.0.0.1 that is within milliseconds, before Firefox
// has seen a page let go of its Web Locks at beforeunload).
const slowPage = (x) => `${x.server.http}/control/slow-page?ms=200`;

/** Subscribes `a` to topic A, marks the page, and leaves it for a slow page; returns its URL. */
async function leaveSubscribed(x, a, ch) {
  const home = await a.eval(() => location.href);
  await a.eval(() => {
    T.subscribe(0, "A");
    window.MARK = "kept";
  });
  await until(async () => (await x.received(ch)).length === 1, "the subscribe");
  await x.navigate(a, slowPage(x));
  return home;
}

/** After a page came back: new frames and topic frames reach it, and it can send. */
async function afterReturn(x, a, ch) {
  const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=3`);
  await x.server.ctl(`/control/broadcast?channel=${ch}&n=1&topic=A`);
  await until(async () => (await x.messages(a)).length === 3 && (await a.eval(() => T.clients[0].topics.A.length)) === 1, "frames after the return").catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(await a.eval(() => ({ m: T.clients[0].messages, t: T.clients[0].topics, e: T.clients[0].errors, s: T.clients[0].statuses.slice(-1) })))}`);
  });
  // Frames sent while the page was away never reach it (it was not attached).
  assert.deepEqual(await x.messages(a), seqFrames(firstSeq, firstSeq + 2, ch));
  await a.eval(() => T.clients[0].c.send("back again"));
  await until(async () => (await x.received(ch)).includes("back again"), "the send");
  assert.deepEqual(await a.eval(() => T.clients[0].errors), []);
}

/** Helpers each scenario receives: `x.server`, `x.engine`, `x.tabs(n, options, query)`, ... */
export function kit(engine, browser, server) {
  const opened = new Set();
  const x = {
    engine,
    browser,
    server,
    /** A tab at `path` of the server (or at `path` itself where it is a whole URL). */
    async open(query = "", path = "/harness.html", opts) {
      const at = /^https?:/.test(path) ? path : `${server.http}${path}`;
      const tab = await browser.openTab(`${at}${query ? `?${query}` : ""}`, opts);
      opened.add(tab);
      const close = tab.close;
      tab.close = async () => {
        opened.delete(tab);
        await close();
      };
      return tab;
    },
    /** n harness tabs, each connected with `options`; waits until every one is open. */
    async tabs(n, options, query = "") {
      const tabs = [];
      for (let i = 0; i < n; i++) tabs.push(await x.open(query));
      const infos = [];
      for (const t of tabs) infos.push(await t.eval((o) => T.connect(o), options));
      for (const t of tabs) await until(() => t.eval(() => T.state(0)?.state === "open"), "open");
      return { tabs, infos };
    },
    state: (t, i = 0) => t.eval((i) => T.state(i), i),
    messages: (t, i = 0) => t.eval((i) => T.clients[i].messages, i),
    stats: () => server.ctl("/control/stats"),
    accepts: async (ch) => (await x.stats()).accepts.filter((a) => a.channel === ch),
    received: async (ch) => (await x.stats()).received.filter((r) => r.channel === ch).map((r) => r.data),
    /** Navigates `tab` to `url` as a link would (the page's own navigation, not the driver's). */
    async navigate(tab, url) {
      await tab.eval((u) => void setTimeout(() => (location.href = u), 10), url);
      await until(async () => (await tab.eval(() => [location.href, document.title]).catch(() => null))?.join(" ") === `${url} ready`, `at ${url}`);
    },
    /** Goes back one page in `tab`'s history, as the back button would; waits for the page. */
    async back(tab, url) {
      await tab.eval(() => void setTimeout(() => history.back(), 10));
      await until(async () => (await tab.eval(() => [location.href, document.title]).catch(() => null))?.join(" ") === `${url} ready`, `back at ${url}`);
    },
    async allTabs(tabs, n) {
      for (const t of tabs) await until(async () => (await x.state(t))?.tabs === n, `${n} tabs counted`);
    },
    async cleanup() {
      for (const t of [...opened]) await t.close().catch(() => {});
    },
  };
  return x;
}

export const scenarios = [
  {
    name: "back/forward cache, with another tab open: the page kept is counted out while away and comes back by itself: reattached, its topic subscribed again, its listeners firing, sends working",
    server: bfServer,
    async run(x) {
      const ch = "bfcache";
      const { tabs } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt });
      // The tab opened last is in front, as the tab a user navigates in is.
      const [b, a] = tabs;
      await x.allTabs(tabs, 2);
      const home = await leaveSubscribed(x, a, ch);
      await until(async () => (await x.state(b)).tabs === 1, "the page away is not counted");
      await until(async () => (await x.received(ch)).length === 2, "its topic let go");
      assert.deepEqual(await x.received(ch), [sub("A"), unsub("A")]);
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=2`);
      // The server has sent them; they are through the worker once the tab that stayed has
      // them. Going back sooner, a frame still on its way would reach the page that is back
      // (seen once in Chromium: the page came back before the worker read the second one).
      await until(async () => (await x.messages(b)).length === 2, "the frames sent while away, in the tab that stayed");
      await x.back(a, home);
      const back = await a.eval(() => ({ kept: globalThis.MARK ?? null, shown: SHOWN }));
      if (x.engine === "firefox") {
        // Measured (Firefox 153 ESR): no page connected to a SharedWorker that holds or waits
        // for a Web Lock is kept (MOZ_LOG=SHIPBFCache:5 says ACTIVE_LOCK), and tabmux's worker
        // waits on every other tab's liveness lock. The page loads afresh instead.
        console.log("# DIFFERS in firefox: a tabmux page with another tab of the site open is not kept in the back/forward cache (the shared worker holds Web Locks); it loads afresh");
        assert.deepEqual(back, { kept: null, shown: [false] });
        await sleep(300);
        assert.equal((await x.state(b)).tabs, 1, "the fresh page has not connected");
        return;
      }
      assert.deepEqual(back, { kept: "kept", shown: [false, true] }, "restored from the back/forward cache");
      await until(async () => (await x.state(b)).tabs === 2 && (await x.state(a)).tabs === 2, "counted again");
      await until(async () => (await x.received(ch)).length === 3, "subscribed again");
      assert.equal((await x.received(ch))[2], sub("A"));
      assert.equal((await x.state(a)).state, "open");
      await afterReturn(x, a, ch);
      // One socket all along: the other tab kept it.
      assert.equal((await x.accepts(ch)).length, 1);
    },
  },
  {
    name: "back/forward cache: the leader going into it hands the lead to the other tab; back, it does not take it back",
    server: bfServer,
    async run(x) {
      const ch = "bf-leader";
      const options = { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt };
      // The tab in front (opened last) connects first: it leads, and it is the one that leaves.
      const b = await x.open();
      const a = await x.open();
      for (const t of [a, b]) await t.eval((o) => T.connect(o), options);
      await x.allTabs([a, b], 2);
      const leads = (t) => t.eval(() => T.clients[0].c.leader);
      await until(async () => (await leads(a)) && !(await leads(b)), "the first tab to connect leads");
      const home = await leaveSubscribed(x, a, ch);
      await until(() => leads(b), "the other tab leads while the leader is away", 5000);
      await x.back(a, home);
      if (x.engine === "firefox") {
        // Not kept with another tab of the site open (the first back/forward cache scenario).
        assert.equal(await leads(b), true);
        return;
      }
      assert.deepEqual(await a.eval(() => ({ kept: globalThis.MARK ?? null, shown: SHOWN })), { kept: "kept", shown: [false, true] });
      await until(async () => (await x.state(a))?.tabs === 2, "counted again");
      await sleep(300);
      assert.deepEqual([await leads(a), await leads(b)], [false, true], "the lead stays where it went");
    },
  },
  ...["shared", "direct"].map((mode) => ({
    name: `back/forward cache, the site's only tab (${mode} mode): its socket closes while it is away and opens again when it comes back, its topic subscribed again, its listeners firing, sends working`,
    server: bfServer,
    async run(x) {
      const ch = `bfcache-${mode}`;
      // idleCloseMs 0: the socket closes as soon as the page is counted out (the default keeps
      // it 5 s for the next page: the scenario after this one).
      const { tabs, infos } = await x.tabs(1, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt, mode, idleCloseMs: 0 });
      const [a] = tabs;
      assert.equal(infos[0].transport, mode);
      const home = await leaveSubscribed(x, a, ch);
      // (WebKit and Firefox may freeze the worker with the page, below: 3 s tell in WebKit,
      // where it is common; elsewhere the usual 10 s, for a loaded machine.)
      const closed = await until(async () => !(await x.stats()).byChannel[ch], "the socket closed while the page is away", x.engine === "webkit" ? 3000 : 10_000).then(() => true, () => false);
      // Measured in some runs (WebKitGTK 2.50.6; Firefox 153 ESR on a loaded machine, 3 of
      // 35): the shared worker is frozen together with its only page. Either before it has read
      // the page's goodbye (the topic still held at the server), or after (Firefox: the topic
      // let go, the socket's close asked for in the same task, and the server's end still open
      // 10 s later). The worker goes on when the page comes back: the page comes back attached
      // and subscribed once, with one socket open.
      const frozen = !closed && x.engine !== "chromium" && mode === "shared";
      if (frozen) {
        const got = await x.received(ch);
        const read = got.length === 2;
        assert.deepEqual(got, read ? [sub("A"), unsub("A")] : [sub("A")], "the goodbye read at most once");
        console.log(`# DIFFERS in ${x.engine}: the shared worker was frozen with its only page ${read ? "after reading the goodbye (its topic let go)" : "before reading the goodbye"}: the socket stayed open at the server while the page was away`);
      } else assert.ok(closed, "the socket closed while the page is away");
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=2`);
      await x.back(a, home);
      const back = await a.eval(() => ({ kept: globalThis.MARK ?? null, shown: SHOWN }));
      if (x.engine === "firefox" && mode === "direct") {
        // Measured (Firefox 153 ESR): an open WebSocket is a request in the page's load group,
        // and a page with one when the next page starts loading is not kept. Direct mode is
        // for browsers without SharedWorker; Firefox has one.
        console.log("# DIFFERS in firefox: a page with its own open WebSocket (direct mode) is not kept in the back/forward cache; it loads afresh");
        assert.deepEqual(back, { kept: null, shown: [false] });
        return;
      }
      assert.deepEqual(back, { kept: "kept", shown: [false, true] }, "restored from the back/forward cache");
      await until(async () => (await x.state(a))?.state === "open" && (await x.stats()).byChannel[ch] === 1, "open again");
      if (frozen) {
        // The goodbye and the new hello reach the worker on two ports, in either order.
        await sleep(300);
        const got = await x.received(ch);
        assert.equal(got.filter((f) => f === sub("A")).length - got.filter((f) => f === unsub("A")).length, 1, `subscribed once: ${JSON.stringify(got)}`);
      } else {
        assert.equal((await x.accepts(ch)).length, 2, "one socket before, one after");
        await until(async () => (await x.received(ch)).length === 3, "subscribed again");
        assert.deepEqual(await x.received(ch), [sub("A"), unsub("A"), sub("A")]);
      }
      await afterReturn(x, a, ch);
    },
  })),
  {
    name: "the site's only tab reloads, then follows a link to another page of the site, while 100 frames/s flow (replay on): where the worker outlives its page (extendedLifetime) no new handshake and every frame once, in order",
    async run(x) {
      const ch = "life";
      const options = { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt, replay: { frames: 1000 } };
      const [a] = [await x.open()];
      // Each page load connects, subscribes to A and appends every frame's seq to sessionStorage.
      const join = () =>
        a.eval(async (o) => {
          const { index } = await T.connect(o);
          const note = (d) => sessionStorage.setItem("seqs", (sessionStorage.getItem("seqs") ?? "") + JSON.parse(d).seq + ",");
          T.clients[index].c.on("message", note);
          T.clients[index].c.subscribe("A", note);
        }, options);
      await join();
      await until(async () => (await x.received(ch)).length === 1, "subscribed");
      await x.server.ctl(`/control/ticker?channel=${ch}&ms=10&count=500&size=60`);
      await sleep(1000);
      const home = await a.eval(() => location.href);
      await a.eval(() => void setTimeout(() => location.reload(), 10));
      await sleep(300);
      await until(async () => (await a.eval(() => document.title).catch(() => null)) === "ready", "reloaded");
      await join();
      await sleep(1000);
      await x.navigate(a, `${home}?another-page`);
      await join();
      const seqs = await until(async () => {
        const s = (await a.eval(() => sessionStorage.getItem("seqs") ?? "")).split(",").filter(Boolean).map(Number);
        return s.at(-1) >= 500 && s;
      }, "the last frame", 20_000);
      const accepts = (await x.accepts(ch)).length;
      const first = seqs[0];
      const contiguous = seqs.every((n, i) => n === first + i) && seqs.length === 501 - first;
      if (x.engine === "chromium") {
        assert.equal(accepts, 1, "one handshake for three page loads");
        assert.ok(contiguous, `every frame once, in order: ${seqs.length} frames from ${first}`);
        assert.deepEqual(await x.received(ch), [sub("A")], "no unsubscribe/subscribe pair at the server");
      } else {
        // No extendedLifetime: the worker ends with its only page, the socket with it (WebKit
        // kept it across one of the two loads in some runs). Never a frame twice or out of order.
        const lost = 501 - first - new Set(seqs).size;
        console.log(`# DIFFERS in ${x.engine}: the worker ends with its only page (no extendedLifetime): ${accepts} handshakes for three page loads, ${lost} of ${501 - first} frames missed`);
        assert.ok(accepts >= 2 && accepts <= 3, `${accepts} handshakes`);
        assert.ok(seqs.every((n, i) => i === 0 || n > seqs[i - 1]), "in order, none twice");
      }
    },
  },
  {
    name: "the OS clock steps an hour back, then two forward, inside the worker: a healthy socket stays open, a server close is retried at once, the status reads the stepped clock",
    async run(x) {
      const ch = "clock";
      const workerUrl = workerCopy("clock", CLOCK);
      const options = { url: x.server.ws(`/ws/${ch}`), workerUrl, heartbeat: { intervalMs: 1000, timeoutMs: 800 }, backoff: { initialMs: 500, maxMs: 1000 } };
      const { tabs } = await x.tabs(1, options);
      const [a] = tabs;
      const step = (ms) => a.eval((ms) => new BroadcastChannel("tabmux-test-clock").postMessage(ms), ms);
      await step(-3_600_000);
      await sleep(2500);
      assert.equal((await x.accepts(ch)).length, 1, "not closed when the clock stepped back");
      await x.server.ctl(`/control/close?channel=${ch}&code=1012`);
      const closed = Date.now();
      await until(async () => (await x.accepts(ch)).length === 2, "back after the server's close", 5000);
      const back = Date.now() - closed;
      await step(3_600_000);
      await sleep(2500);
      assert.equal((await x.accepts(ch)).length, 2, "not closed when the clock stepped forward");
      assert.equal((await x.state(a)).state, "open");
      const seen = await a.eval(() => ({ at: T.state(0).lastHeartbeatAt, now: Date.now() }));
      assert.ok(Math.abs(seen.at - seen.now - 3_600_000) < 5000, `lastHeartbeatAt ${seen.at} vs the worker's clock ${seen.now + 3_600_000}`);
      console.log(`# ${x.engine}: back ${back} ms after the server's close with the clock stepped back an hour`);
    },
  },
  {
    name: "Number.MAX_SAFE_INTEGER in every duration option: the worker runs no timer callback in 5 s and still delivers",
    async run(x) {
      const ch = "never";
      const workerUrl = workerCopy("timers", TIMERS);
      const { tabs } = await x.tabs(1, { url: x.server.ws(`/ws/${ch}`), workerUrl, ...NEVER });
      const [a] = tabs;
      const start = await a.eval(timersFired);
      await sleep(5000);
      assert.equal((await a.eval(timersFired)) - start, 0, "no timer callback in 5 s");
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=3`);
      await until(async () => (await x.messages(a)).length === 3, "3 frames");
      assert.deepEqual(await x.messages(a), seqFrames(firstSeq, firstSeq + 2, ch));
    },
  },
  {
    name: "a worker the browser ends mid-stream (sequence on, 1,000 frames/s): each tab replaces it, the new socket resumes after the lowest number the tabs had (dialed again for a background tab whose hello comes late), every tab gets every number once, in order, no gap",
    async run(x) {
      const ch = "ended";
      const workerUrl = workerCopy("ender", ENDER);
      const options = { url: `${x.server.ws(`/ws/${ch}`)}?replay=1`, workerUrl, sequence: { key: "/seq" }, heartbeat: false };
      const { tabs } = await x.tabs(2, options);
      for (const t of tabs) await t.eval(() => void T.clients[0].c.on("message", (d) => (window.SEQS ??= []).push(JSON.parse(d).seq)));
      await x.server.ctl(`/control/ticker?channel=${ch}&ms=1&count=4000&size=80`);
      await until(() => tabs[0].eval(() => (window.SEQS?.length ?? 0) > 1000), "1,000 frames in", 20_000);
      await tabs[0].eval(() => new BroadcastChannel("tabmux-test-end").postMessage("end"));
      for (const [i, t] of tabs.entries()) {
        const seqs = await until(async () => {
          const s = await t.eval(() => window.SEQS);
          return s.at(-1) === 4000 && s;
        }, `the last frame in tab ${i}`, 30_000);
        const first = seqs[0];
        const broken = seqs.findIndex((n, j) => n !== first + j);
        assert.equal(broken, -1, `tab ${i}: every number once, in order (at ${broken}: ${JSON.stringify(seqs.slice(Math.max(0, broken - 2), broken + 3))}); sockets: ${JSON.stringify((await x.accepts(ch)).map((a) => a.query))}`);
        assert.deepEqual(await t.eval(() => T.clients[0].gaps), [], `tab ${i}: no gap`);
      }
      // One socket per worker, and one more where a tab's hello came late (Firefox clamps the
      // replacement timer of a tab not in front to a second).
      const accepts = await x.accepts(ch);
      assert.ok(accepts.length === 2 || accepts.length === 3, `${accepts.length} sockets`);
      console.log(`# ${x.engine}: the replacement resumed with ${accepts.slice(1).map((a) => a.query).join(", then ")}`);
    },
  },
  {
    name: "a navigation that does not happen (beforeunload, then the page stays): the tab takes its liveness lock again, keeps receiving, and is still dropped when it later vanishes without a goodbye",
    async run(x) {
      const ch = "stays";
      const { tabs, infos } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false }, "nogoodbye");
      const [b, a] = tabs;
      await x.allTabs(tabs, 2);
      const tabLocks = () => a.eval(async (id) => (await navigator.locks.query()).held.map((l) => l.name).filter((n) => n.startsWith(`tabmux:${id}:`)), infos[1].tabId);
      const before = await tabLocks();
      assert.equal(before.length, 1);
      // What the browser fires first when a link is followed; a download link (or an app's
      // "leave this page?" answered with no) leaves the page where it is.
      await a.eval(() => dispatchEvent(new Event("beforeunload")));
      await until(async () => (await tabLocks()).length === 0, "the lock let go");
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=3`);
      await until(async () => (await x.messages(a)).length === 3, "frames meanwhile").catch(async (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(await a.eval(() => ({ m: T.clients[0].messages, s: T.clients[0].statuses.slice(-2), e: T.clients[0].errors })))} b: ${JSON.stringify(await x.messages(b))}`);
      });
      assert.deepEqual(await x.messages(a), seqFrames(firstSeq, firstSeq + 2, ch));
      assert.equal((await x.state(b)).tabs, 2, "still counted");
      await until(async () => (await tabLocks()).length === 1, "a new lock 2 s later", 5000);
      assert.notDeepEqual(await tabLocks(), before);
      await sleep(200);
      await a.close();
      await until(async () => (await x.state(b)).tabs === 1, "dropped through its new lock");
      assert.equal((await x.stats()).byChannel[ch], 1);
    },
  },
  {
    name: "3 tabs share 1 server socket; every frame reaches every tab once, in order; each tab can send",
    async run(x) {
      const ch = "three";
      const { tabs, infos } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false });
      assert.deepEqual(infos.map((i) => i.transport), ["shared", "shared", "shared"]);
      assert.equal(new Set(infos.map((i) => i.tabId)).size, 3);
      await x.allTabs(tabs, 3);
      const s = await x.stats();
      assert.equal(s.byChannel[ch], 1);
      assert.equal((await x.accepts(ch)).length, 1);
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=200`);
      for (const t of tabs) await until(async () => (await x.messages(t)).length >= 200, "200 frames");
      await sleep(200); // a duplicate would have arrived by now
      for (const t of tabs) assert.deepEqual(await x.messages(t), seqFrames(firstSeq, firstSeq + 199, ch));
      for (const [i, t] of tabs.entries()) await t.eval((m) => T.clients[0].c.send(m), `hello from tab ${i + 1}`);
      await until(async () => (await x.received(ch)).length === 3, "3 sends at the server");
      await sleep(100);
      assert.deepEqual((await x.received(ch)).sort(), ["hello from tab 1", "hello from tab 2", "hello from tab 3"]);
      const st = await tabs[0].eval(() => T.clients[0].c.stats());
      assert.deepEqual([st.transport, st.tabs, st.framesIn, st.framesOut, st.deliveries], ["shared", 3, 200, 3, 600]);
      assert.deepEqual(await tabs[1].eval(() => T.clients[0].errors), []);
    },
  },
  {
    name: "a tab closed normally says goodbye: no longer counted; the last tab closing closes the socket",
    async run(x) {
      const ch = "leave";
      const { tabs } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false });
      await x.allTabs(tabs, 3);
      await tabs[2].close();
      await x.allTabs(tabs.slice(0, 2), 2);
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=5`);
      for (const t of tabs.slice(0, 2)) {
        await until(async () => (await x.messages(t)).length >= 5, "5 frames");
        assert.deepEqual(await x.messages(t), seqFrames(firstSeq, firstSeq + 4, ch));
      }
      await tabs[0].close();
      await x.allTabs([tabs[1]], 1);
      assert.equal((await x.stats()).byChannel[ch], 1);
      await tabs[1].close();
      await until(async () => !(await x.stats()).byChannel[ch], "the server sees the socket close");
    },
  },
  {
    name: "server restart mid-stream (pause + drop): every tab reconnects to one new socket and keeps receiving in order",
    async run(x) {
      const ch = "restart";
      const options = { url: x.server.ws(`/ws/${ch}`), heartbeat: false, breaker: { failureThreshold: 50 }, backoff: { initialMs: 200, factor: 2, maxMs: 1000, jitter: 0.2 } };
      const { tabs } = await x.tabs(3, options);
      const before = (await x.server.ctl(`/control/broadcast?channel=${ch}&n=10`)).firstSeq;
      for (const t of tabs) await until(async () => (await x.messages(t)).length === 10, "10 frames before");
      assert.equal((await x.server.ctl("/control/pause?ms=1500&drop=true")).closed, 1);
      for (const t of tabs) await until(async () => (await x.state(t)).state === "reconnecting", "reconnecting");
      for (const t of tabs) await until(async () => (await x.state(t)).state === "open", "open again", 15_000);
      await sleep(300);
      const log = await x.accepts(ch);
      assert.equal(log.filter((a) => !a.refused).length, 2, "the first socket and exactly one after the restart");
      assert.ok(log.slice(1, -1).every((a) => a.refused) && log.length >= 3, `refused while paused: ${JSON.stringify(log.map((a) => a.refused))}`);
      assert.equal((await x.stats()).byChannel[ch], 1);
      const after = (await x.server.ctl(`/control/broadcast?channel=${ch}&n=10`)).firstSeq;
      for (const t of tabs) {
        await until(async () => (await x.messages(t)).length === 20, "10 frames after");
        assert.deepEqual(await x.messages(t), [...seqFrames(before, before + 9, ch), ...seqFrames(after, after + 9, ch)]);
      }
    },
  },
  {
    name: "server closes with 1012 (service restart): every tab sees the close code the engine reports, then one reconnect",
    async run(x) {
      const ch = "code1012";
      const { tabs } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, backoff: { initialMs: 100, jitter: 0 } });
      await x.server.ctl(`/control/close?channel=${ch}&code=1012&reason=restart`);
      await until(async () => (await x.accepts(ch)).length === 2, "the reconnect");
      for (const t of tabs) await until(async () => (await x.state(t)).state === "open", "open again");
      // Measured: WebKitGTK 2.50.6 reports a received 1012, 1013 or 1014 as 1006 with no reason
      // (wasClean false), in a page's own WebSocket too; 1000, 1001, 1008, 1011, 4000 and 4401
      // arrive as sent. Chromium and Firefox report 1012 and its reason.
      const want = x.engine === "webkit" ? { code: 1006, reason: "" } : { code: 1012, reason: "restart" };
      if (x.engine === "webkit") console.log("# DIFFERS in webkit: a close with 1012 reaches tabmux as 1006 with no reason (engine behaviour)");
      // (A page's own WebSocket was checked the same way by hand; in the suite that check timed
      // out once in WebKit after 3 clean runs, so only tabmux's view is asserted here.)
      for (const t of tabs) {
        const closes = await t.eval(() => T.clients[0].statuses.map((s) => s.lastClose).filter(Boolean));
        assert.deepEqual(closes[0], want);
      }
    },
  },
  {
    name: "close 4401 with token.url: one token fetch for the browser, one reconnect with the new token",
    async run(x) {
      const ch = "auth-url";
      await x.server.ctl("/control/token?value=first");
      const { tabs } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, token: { url: "/token", pollMs: 600000 } });
      assert.equal((await x.stats()).tokenFetches.length, 1, "one fetch for three tabs");
      assert.deepEqual((await x.accepts(ch)).map((a) => a.query), ["token=first"]);
      await x.server.ctl("/control/token?value=second");
      await x.server.ctl(`/control/close?channel=${ch}&code=4401`);
      await until(async () => (await x.accepts(ch)).length === 2, "the reconnect");
      for (const t of tabs) await until(async () => (await x.state(t)).state === "open", "open again");
      await sleep(500);
      assert.equal((await x.stats()).tokenFetches.length, 2);
      assert.deepEqual((await x.accepts(ch)).map((a) => a.query), ["token=first", "token=second"]);
      for (const t of tabs) assert.ok(!JSON.stringify(await x.state(t)).includes("second"), "the token is not in the status");
    },
  },
  {
    name: "topics: one subscribe per topic for the browser, frames only to subscribers, resubscribed after a reconnect, one unsubscribe when the last subscriber leaves",
    async run(x) {
      const ch = "topics";
      const { tabs } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt, backoff: { initialMs: 50 } });
      for (const t of tabs.slice(0, 2)) await t.eval(() => T.subscribe(0, "A"));
      await tabs[2].eval(() => T.subscribe(0, "B"));
      await until(async () => (await x.received(ch)).length === 2, "2 subscribe frames");
      await sleep(200);
      assert.deepEqual((await x.received(ch)).sort(), [sub("A"), sub("B")]);
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=2&topic=A`);
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=1&topic=B`);
      await x.server.ctl(`/control/broadcast?channel=${ch}&n=1`);
      for (const t of tabs) await until(async () => (await x.messages(t)).length === 1, "the frame without a topic everywhere");
      await sleep(150);
      for (const t of tabs.slice(0, 2)) assert.deepEqual(await t.eval(() => [T.clients[0].topics.A?.length ?? null, T.clients[0].topics.B?.length ?? null]), [2, null]);
      assert.deepEqual(await tabs[2].eval(() => [T.clients[0].topics.A?.length ?? null, T.clients[0].topics.B?.length ?? null]), [null, 1]);
      await x.server.ctl(`/control/close?channel=${ch}&code=1012`);
      await until(async () => (await x.received(ch)).length === 4, "resubscribed");
      assert.deepEqual((await x.received(ch)).slice(2).sort(), [sub("A"), sub("B")]);
      await tabs[0].eval(() => T.unsubscribe(0, "A"));
      await sleep(300);
      assert.equal((await x.received(ch)).length, 4, "tab 2 still holds A");
      await tabs[1].eval(() => T.unsubscribe(0, "A"));
      await until(async () => (await x.received(ch)).length === 5, "one unsubscribe");
      assert.equal((await x.received(ch))[4], unsub("A"));
    },
  },
  {
    name: "sequence gap: one gap event per tab; after a reconnect the server sees since=<last+1>",
    async run(x) {
      const ch = "seq";
      const { tabs } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, sequence: { key: "/seq" }, backoff: { initialMs: 50 } });
      const first = (await x.server.ctl(`/control/broadcast?channel=${ch}&n=3`)).firstSeq;
      const second = (await x.server.ctl(`/control/broadcast?channel=${ch}&n=2&skip=4`)).firstSeq;
      assert.equal(second, first + 7);
      for (const t of tabs) {
        await until(async () => (await x.messages(t)).length === 5, "5 frames");
        await sleep(100);
        assert.deepEqual(await t.eval(() => T.clients[0].gaps), [{ from: first + 3, to: first + 6 }]);
      }
      await x.server.ctl(`/control/close?channel=${ch}&code=1012`);
      await until(async () => (await x.accepts(ch)).length === 2, "reconnect");
      assert.equal((await x.accepts(ch))[1].query, `since=${second + 1}`);
    },
  },
  {
    name: "a tab that vanishes without a goodbye (pagehide suppressed, then closed) is dropped and its topic released (Web Locks)",
    async run(x) {
      const ch = "nogoodbye";
      const options = { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt };
      const { tabs } = await x.tabs(2, options);
      const silent = await x.open("nogoodbye");
      await silent.eval((o) => T.connect(o), options);
      await until(() => silent.eval(() => T.state(0)?.state === "open"), "open");
      await silent.eval(() => T.subscribe(0, "only-mine"));
      await until(async () => (await x.received(ch)).length === 1, "subscribed");
      await x.allTabs(tabs, 3);
      const t0 = Date.now();
      await silent.close();
      await x.allTabs(tabs, 2);
      const took = Date.now() - t0;
      await until(async () => (await x.received(ch)).length === 2, "topic released");
      assert.deepEqual(await x.received(ch), [sub("only-mine"), unsub("only-mine")]);
      console.log(`# ${x.engine}: tab closed without a goodbye dropped after ${took} ms`);
    },
  },
  {
    name: "one tab for side effects: an exclusive handler runs once per frame, in the leader; the leader moves within 200 ms when it closes (and when its renderer dies, where the engine can crash a tab), never two at once",
    async run(x) {
      const ch = "leader";
      const { tabs } = await x.tabs(3, { url: x.server.ws(`/ws/${ch}`), heartbeat: false });
      const collector = await x.open();
      await collector.eval(() => T.collect());
      const collected = () => collector.eval(() => T.collected);
      for (const [i, t] of tabs.entries()) await t.eval(async (i) => (T.lead(0, `tab${i}`), await T.clients[0].c.stats()), i);
      const runs = async () => Object.values(handled(await collected())).flat().length;
      const range = (from, n) => Array.from({ length: n }, (_, i) => from + i);
      const burst = async (n) => (await x.server.ctl(`/control/broadcast?channel=${ch}&n=${n}`)).firstSeq;
      const first = await burst(300);
      await until(async () => (await runs()) === 300, "300 runs");
      // The first tab leads, and the leader's exclusive handler runs for each frame.
      const leaders = await Promise.all(tabs.map((t) => t.eval(() => T.clients[0].c.leader)));
      assert.deepEqual(leaders, [true, false, false]);
      const closedAt = Date.now();
      await tabs[0].close();
      const next = await until(async () => nextLeader(await collected(), closedAt), "a new leader", 5000);
      const afterClose = next.t - closedAt;
      const second = await burst(100);
      await until(async () => (await runs()) === 400, "100 runs after the close");
      const expected = { tab0: range(first, 300), [next.tab]: range(second, 100) };
      let afterCrash = null;
      if (x.browser.canCrash) {
        const victim = tabs[Number(next.tab.slice(3))];
        const crashedAt = Date.now();
        await victim.crash();
        const last = await until(async () => nextLeader(await collected(), crashedAt), "a new leader after the crash", 5000);
        afterCrash = last.t - crashedAt;
        const third = await burst(100);
        await until(async () => (await runs()) === 500, "100 runs after the crash");
        expected[last.tab] = range(third, 100);
      }
      await sleep(300);
      const records = await collected();
      assert.deepEqual(handled(records), expected);
      assert.deepEqual(overlaps(records), [], "never two leaders at once");
      console.log(`# ${x.engine}: new leader ${afterClose.toFixed(1)} ms after the close${afterCrash === null ? "" : `, ${afterCrash.toFixed(1)} ms after the crash`}; 10 ms samples per tab ${JSON.stringify(samples(records))}`);
      for (const [tab, n] of Object.entries(samples(records))) assert.ok(n >= 5, `${tab}: ${n} samples`);
      assert.equal(Object.keys(samples(records)).length, 3);
      assert.ok(afterClose < 200, `${afterClose} ms`);
      assert.ok(afterCrash === null || afterCrash < 200, `${afterCrash} ms`);
    },
  },
  {
    name: "a tab whose renderer crashes is dropped and its topic released (Web Locks)",
    notIn: {
      firefox: "no way to crash one tab: WebDriver BiDi has no crash command (and puppeteer exposes no per-tab content process to kill)",
      webkit: "classic WebDriver has no crash command and WebKitWebDriver exposes no web process id to kill",
    },
    async run(x) {
      const ch = "crash";
      const options = { url: x.server.ws(`/ws/${ch}`), heartbeat: false, topics: topicsOpt };
      const { tabs } = await x.tabs(3, options);
      await tabs[2].eval(() => T.subscribe(0, "only-mine"));
      await until(async () => (await x.received(ch)).length === 1, "subscribed");
      await x.allTabs(tabs, 3);
      const t0 = Date.now();
      await tabs[2].crash();
      await x.allTabs(tabs.slice(0, 2), 2);
      const took = Date.now() - t0;
      await until(async () => (await x.received(ch)).length === 2, "topic released");
      assert.deepEqual(await x.received(ch), [sub("only-mine"), unsub("only-mine")]);
      console.log(`# ${x.engine}: crashed tab dropped after ${took} ms`);
    },
  },
  {
    name: "a worker panic: every tab is told (worker-crashed), starts a replacement worker and receives again",
    async run(x) {
      const ch = "panic";
      const workerUrl = "/dist-test/worker/shared-websocket-worker.js";
      const { tabs } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, workerUrl, topics: topicsOpt });
      await tabs[0].eval(() => T.subscribe(0, "A"));
      await until(async () => (await x.received(ch)).length === 1, "subscribed");
      // Kept in a global: a SharedWorker object collected right away may take its port (and
      // the message on it) with it.
      await tabs[0].eval((url) => {
        window.PANIC = new SharedWorker(url, { name: WORKER_NAME, extendedLifetime: true });
        PANIC.port.postMessage({ t: "panic" });
      }, workerUrl);
      for (const t of tabs) await until(() => t.eval(() => T.clients[0].errors.some((e) => e.code === "worker-crashed")), "the crash reported");
      for (const t of tabs) await until(() => t.eval(() => T.clients[0].statuses.some((s) => s.state === "reconnecting" && /^tabmux: the worker crashed: /.test(s.lastError ?? ""))), "the loss in the status");
      for (const t of tabs) await until(async () => (await x.state(t)).state === "open", "open on the new worker");
      console.log(`# ${x.engine}: crash news: ${JSON.stringify(await Promise.all(tabs.map((t) => t.eval(() => T.clients[0].errors.find((e) => e.code === "worker-crashed")?.message))))}`);
      // Told once per tab, whichever news came first (the worker's report or its life lock).
      for (const t of tabs) assert.equal(await t.eval(() => T.clients[0].errors.filter((e) => e.code === "worker-crashed").length), 1);
      await until(async () => (await x.received(ch)).length === 2, "resubscribed on the new worker");
      assert.deepEqual(await x.received(ch), [sub("A"), sub("A")]);
      await sleep(300);
      assert.equal((await x.accepts(ch)).length, 2, "one socket from the new worker");
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=2`);
      for (const t of tabs) {
        await until(async () => (await x.messages(t)).length === 2, "frames from the new worker");
        assert.deepEqual(await x.messages(t), seqFrames(firstSeq, firstSeq + 1, ch));
      }
      await x.allTabs(tabs, 2);
    },
  },
  {
    name: "a tab busy for 10 s while 15,000 frames arrive: posted at most 10,240 of them, told how many it missed (lagged), then receives again",
    async run(x) {
      const ch = "busy";
      const { tabs } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false });
      const [, b] = tabs;
      // Blocked by the command itself, not from a timer: a timer in a tab that is not in front
      // fires late (WebKit's did, in a full run, and the tab took every frame before it
      // blocked). The command returns when the block ends; it is not awaited here. Where both
      // tabs live in one content process (Firefox and WebKit put same-site tabs together), the
      // other tab is blocked too, and lags the same way.
      const blocked = b.eval(() => {
        const end = Date.now() + 10_000;
        while (Date.now() < end);
      }).catch(() => {});
      await sleep(300);
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=15000`);
      const seen = async (t) => t.eval(() => [T.clients[0].messages.length, T.clients[0].errors]).catch(() => null);
      // Each tab ends with every frame, or with one lagged error and exactly the frames it
      // does not count as missed: no frame lost without being counted, none twice. (A tab that
      // catches up before the burst ends receives its tail again: Firefox did.)
      const missedOf = (errors) => Number(/ (\d+) frames were not delivered/.exec(errors[0]?.message ?? "")?.[1] ?? 0);
      const settled = ([n, errors]) =>
        (errors.length === 0 || (errors.length === 1 && errors[0].code === "lagged")) && n + missedOf(errors) === 15000;
      for (const t of tabs) await until(async () => settled((await seen(t)) ?? [0, []]), "every frame, or the lag told", 60_000);
      const counts = [];
      const outcome = [];
      for (const t of tabs) {
        const [n, errors] = await seen(t);
        counts.push(n);
        const missed = missedOf(errors);
        const got = await x.messages(t);
        // The frames before the lag (at least the bound), then those after it, in order.
        const all = seqFrames(firstSeq, firstSeq + 14999, ch);
        const k = missed ? got.findIndex((f, i) => f !== all[i]) : n;
        const before = k === -1 ? n : k;
        if (missed) assert.ok(before >= 10240, `${before} frames before the lag`);
        assert.deepEqual(got, [...all.slice(0, before), ...all.slice(before + missed)]);
        outcome.push(missed ? `${before} + lagged ${missed} + ${n - before}` : "all 15000");
      }
      await blocked;
      assert.notEqual(outcome[1], "all 15000", "the busy tab lagged");
      console.log(`# ${x.engine}: running tab ${outcome[0]}, busy tab ${outcome[1]}`);
      const next = (await x.server.ctl(`/control/broadcast?channel=${ch}&n=5`)).firstSeq;
      for (const [i, t] of tabs.entries()) {
        const n = counts[i];
        await until(async () => (await seen(t))[0] === n + 5, "5 more frames");
        assert.deepEqual((await x.messages(t)).slice(n), seqFrames(next, next + 4, ch));
      }
    },
  },
  {
    name: "without SharedWorker (deleted before the page's scripts run) each tab has its own direct socket, same API",
    async run(x) {
      const ch = "nosw";
      const { tabs, infos } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false }, "nosw");
      assert.deepEqual(infos.map((i) => i.transport), ["direct", "direct"]);
      assert.equal((await x.stats()).byChannel[ch], 2);
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=50`);
      for (const t of tabs) {
        await until(async () => (await x.messages(t)).length >= 50, "50 frames");
        assert.deepEqual(await x.messages(t), seqFrames(firstSeq, firstSeq + 49, ch));
      }
      await tabs[0].eval(() => T.clients[0].c.send("direct hello"));
      await until(async () => (await x.received(ch)).includes("direct hello"), "direct send at the server");
      const st = await tabs[0].eval(() => T.clients[0].c.stats());
      assert.deepEqual([st.transport, st.tabs, st.framesIn, st.framesOut], ["direct", 1, 50, 1]);
      for (const t of tabs) await t.close();
      await until(async () => !(await x.stats()).byChannel[ch], "direct sockets closed");
    },
  },
  {
    name: "mode: \"direct\": one socket per tab, no worker fetched",
    async run(x) {
      const ch = "direct";
      const { tabs, infos } = await x.tabs(2, { url: x.server.ws(`/ws/${ch}`), heartbeat: false, mode: "direct" });
      assert.deepEqual(infos.map((i) => i.transport), ["direct", "direct"]);
      assert.equal((await x.stats()).byChannel[ch], 2);
      const { firstSeq } = await x.server.ctl(`/control/broadcast?channel=${ch}&n=5`);
      for (const t of tabs) {
        await until(async () => (await x.messages(t)).length === 5, "5 frames");
        assert.deepEqual(await x.messages(t), seqFrames(firstSeq, firstSeq + 4, ch));
      }
      const files = [...new Set((await x.stats()).files)].filter((f) => f !== "/favicon.ico").sort();
      assert.deepEqual(files, ["/dist/direct/tabmux_direct.js", "/dist/direct/tabmux_direct_bg.wasm", "/dist/index.js", "/dist/tab/build-id.js", "/dist/tab/tabmux_tab.js", "/dist/tab/tabmux_tab_bg.wasm", "/harness-pre.js", "/harness.html", "/harness.js"]);
    },
  },
  {
    name: "invalid options are rejected with code invalid-options and the exact message",
    async run(x) {
      const tab = await x.open();
      const cases = [
        [{}, "tabmux: invalid options: missing field `url`"],
        [{ url: "http://127.0.0.1/ws" }, 'tabmux: invalid options: url must start with ws:// or wss://, got "http://127.0.0.1/ws"'],
        [{ url: x.server.ws(), mode: "bogus" }, "tabmux: invalid options: mode: unknown variant `bogus`, expected one of `auto`, `shared`, `direct`"],
        [{ url: x.server.ws(), reconnect: true }, "tabmux: invalid options: unknown field `reconnect`, expected one of `url`, `workerUrl`, `mode`, `workerTimeoutMs`, `backoff`, `closeCodes`, `closeCodePreset`, `connectTimeoutMs`, `breaker`, `heartbeat`, `token`, `dedup`, `sequence`, `topics`, `queue`, `replay`, `idleCloseMs`, `json`, `serverPing`, `protocols`, `debug`, `account`, `logger`"],
        [{ url: x.server.ws(), backoff: { initalMs: 5 } }, "tabmux: invalid options: unknown field `backoff.initalMs`, expected one of `backoff.initialMs`, `backoff.factor`, `backoff.maxMs`, `backoff.jitter`, `backoff.maxAttempts`, `backoff.minUptimeMs`"],
        [{ url: x.server.ws(), backoff: { maxMs: -1 } }, "tabmux: invalid options: backoff.maxMs: expected a whole number ≥ 0, got -1"],
      ];
      for (const [options, message] of cases) assert.deepEqual(await tab.eval((o) => T.connectError(o), options), { code: "invalid-options", message });
      const err = await tab.eval((url) => T.connectError({ url, workerUrl: "/no-such-worker.js", mode: "shared" }), x.server.ws());
      assert.deepEqual(err, { code: "worker-failed", message: "tabmux: the shared worker script at /no-such-worker.js failed to load or run" });
    },
  },
  {
    name: "the demo page (www/dist) in three tabs: one server socket, each tab shows open, shared, 3 tabs, 1 server socket",
    server: { statics: [join(root, "www", "dist")] },
    async run(x) {
      const text = (t, id) => t.eval((id) => document.querySelector(`[data-testid=${id}]`)?.textContent ?? null, id);
      const tabs = [];
      for (let i = 0; i < 3; i++) tabs.push(await x.open("", "/", { ready: false }));
      for (const t of tabs) {
        await until(async () => (await text(t, "state")) === "open", "the demo shows open");
        await until(async () => (await text(t, "tabs")) === "3", "3 tabs shown");
        await until(async () => (await text(t, "server")) === "1", "1 server socket shown");
        assert.equal(await text(t, "transport"), "shared");
      }
      const s = await x.stats();
      assert.equal(s.current, 1);
      assert.equal(s.accepts.length, 1);
    },
  },
  ...securityScenarios,
  ...identityScenarios,
];
