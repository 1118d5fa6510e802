// Records everything each client reports, for the end-to-end tests to read.
import { connect } from "/dist/index.js";
import BUILD from "/dist/tab/build-id.js";
// The name tabs of this release give the worker, for tests that talk to it directly.
window.WORKER_NAME = `tabmux-v1-${BUILD}-xl`;
window.BUILD = BUILD;
window.T = {
  clients: [],
  async connect(options, { countOnly = false } = {}) {
    const c = await connect(options);
    const rec = { c, messages: [], statuses: [], errors: [], gaps: [], topics: {}, offs: {}, count: 0, lastSeq: 0, outOfOrder: 0 };
    c.on("message", (d) => {
      if (!countOnly) return rec.messages.push(d instanceof ArrayBuffer ? { binary: d.byteLength } : d);
      rec.count++;
    });
    c.on("gap", (g) => rec.gaps.push(g));
    c.on("status", (s) => rec.statuses.push(s));
    c.on("error", (e) => rec.errors.push({ code: e.code, message: e.message }));
    if (c.status) rec.statuses.push(c.status);
    T.clients.push(rec);
    return { index: T.clients.length - 1, transport: c.transport, clientId: c.clientId, tabId: c.tabId };
  },
  async connectError(options) {
    try {
      await connect(options);
      return null;
    } catch (e) {
      return { code: e.code, message: e.message };
    }
  },
  subscribe(i, topic, { countOnly = false } = {}) {
    const rec = T.clients[i];
    rec.topics[topic] ??= [];
    rec.offs[topic] = rec.c.subscribe(topic, (d, t) => {
      if (!countOnly) return rec.topics[t].push(d);
      rec.count++;
    });
  },
  unsubscribe(i, topic) {
    T.clients[i].offs[topic]();
  },
  /** The leader tests' records of client `i`, posted on the BroadcastChannel
   *  "tabmux-test-lead" as `{ tab, t, ... }` (t: performance.timeOrigin + performance.now(),
   *  comparable across pages): `leader` at each change (`event: true`) and at each of the
   *  collector's 10 ms samples, and `one: seq` for each frame its exclusive handler runs for
   *  (of `topic`, if given). A collector page (`T.collect()`) keeps them, so what a tab saw
   *  before it crashed is kept. */
  lead(i, tab, { topic } = {}) {
    const c = T.clients[i].c;
    const ch = new BroadcastChannel("tabmux-test-lead");
    const post = (m) => ch.postMessage({ tab, t: performance.timeOrigin + performance.now(), ...m });
    c.on("leader", (leader) => post({ leader, event: true }));
    post({ leader: c.leader, event: true });
    // Sampled on the collector's message, not a timer of this page's own: browsers throttle a
    // hidden tab's timers to 1 s, not its messages.
    ch.onmessage = (e) => e.data === "sample" && post({ leader: c.leader });
    const one = (d) => post({ one: JSON.parse(d).seq });
    if (topic) c.subscribe(topic, one, { exclusive: true });
    else c.on("message", one, { exclusive: true });
  },
  /** In a page of its own: asks every `T.lead` tab for a sample each 10 ms (from a dedicated
   *  worker, whose timers no engine throttles when the page is hidden), and keeps every record
   *  they post, in `T.collected`. */
  collect() {
    T.collected = [];
    T.collector = new BroadcastChannel("tabmux-test-lead");
    T.collector.onmessage = (e) => e.data !== "sample" && T.collected.push(e.data);
    const ticker = `const c = new BroadcastChannel("tabmux-test-lead"); setInterval(() => c.postMessage("sample"), 10);`;
    T.ticker = new Worker(URL.createObjectURL(new Blob([ticker], { type: "text/javascript" })));
  },
  state(i) {
    return T.clients[i].statuses.at(-1) ?? null;
  },
  /** A port of this release's worker read raw: says hello for `url` and hands every message
   *  the worker posts to `onmessage`. Returns the SharedWorker (keep it referenced). */
  raw(url, onmessage) {
    const w = new SharedWorker("/shared-websocket-worker.js", { name: WORKER_NAME, extendedLifetime: true });
    w.port.onmessage = ({ data }) => onmessage(data);
    w.port.postMessage({ t: "hello", v: 1, tabId: "raw", build: BUILD, options: { url, heartbeat: false } });
    return w;
  },
};
document.title = "ready";
