// One benchmark tab. The driver opens tab 0; tab 0 opens the others without an opener, so
// each is its own top-level tab with its own renderer process, as a user's tabs are (no
// DevTools protocol in the way: it would copy every frame of a page's own WebSocket). Each tab connects in the
// mode under test, counts frames, checks their sequence numbers, answers latency probes,
// and reports to the dev server with POST /control/note.
const q = new URLSearchParams(location.search);
const run = q.get("run");
const mode = q.get("mode");
const tab = Number(q.get("tab"));
const tabs = Number(q.get("tabs"));
const frames = Number(q.get("frames"));
const integrity = q.get("integrity") === "1";
const url = q.get("url");

const note = (kind, extra) =>
  fetch("/control/note", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ run, tab, kind, ...extra }) });

function openOthers() {
  for (let i = 1; i < tabs; i++) {
    const u = new URL(location.href);
    u.searchParams.set("tab", String(i));
    window.open(u.href, "_blank", "noopener");
  }
}
// For the start-up figures the others attach once tab 0 has its first frame (a running worker).
if (tab === 0 && q.get("startup") !== "1") openOthers();

let count = 0, last = 0, dups = 0, gaps = 0, first = null, openAt = null, connectAt = null;
const t0 = performance.now();
// For bench/startup-trace.mjs, which aligns this page's timeline with the worker's.
globalThis.benchT0 = t0;
let send = null, memory = async () => null;

function onFrame(data) {
  if (typeof data !== "string") return;
  if (data.startsWith('{"probe"')) return send(`{"probe-ack":${data.slice(9, -1)}}`);
  if (first === null) {
    first = performance.now() - t0;
    if (q.get("startup") === "1") {
      // The library's own marks (tabmux modes), as ms since this script started.
      const marks = {};
      for (const name of ["tabmux:entry", "tabmux:wasm", "tabmux:welcome"]) {
        const e = performance.getEntriesByName(name)[0];
        if (e) marks[name.slice(7)] = e.startTime - t0;
      }
      note("first", { ms: first, connectAt, marks: { ...marks, open: openAt } });
      if (tab === 0) openOthers();
    }
  }
  if (!data.startsWith('{"seq":')) return;
  const seq = Number(data.slice(7, data.indexOf(",")));
  if (seq <= last) dups++;
  else if (seq > last + 1 && last !== 0) gaps += seq - last - 1;
  if (seq > last) last = seq;
  if (++count === frames) memory().then((mem) => note("done", { count, dups, gaps, mem }));
}

/** Sends that settle on their acknowledgement, as tabmux's do, on a JS page's port (the
 *  modes "jstab" and "acked"): `send(data)` posts `{ t: "send", id, data }` and keeps the
 *  promise's resolve by id; `settled(id)` resolves it when the worker's acknowledgement (the
 *  id, a number) comes. */
function settlingSends(port) {
  const waiting = new Map();
  let id = 0;
  return {
    send: (data) => new Promise((resolve) => (waiting.set(++id, resolve), port.postMessage({ t: "send", id, data }))),
    settled: (n) => (waiting.get(n)?.(), waiting.delete(n)),
  };
}

async function start() {
  if (mode === "shared" || mode === "direct") {
    // `dist`: another build of the package, served from the repository (the bench's "other" mode).
    const dist = q.get("dist");
    const { connect } = await import(`${dist ?? "/dist"}/index.js`);
    const options = { url, mode, heartbeat: false };
    if (dist) options.workerUrl = `${dist}/worker/shared-websocket-worker.js`;
    if (integrity) Object.assign(options, { dedup: { key: "/seq" }, sequence: { key: "/seq" } });
    connectAt = performance.now() - t0;
    const c = await connect(options);
    c.on("message", onFrame);
    send = (s) => c.send(s);
    memory = async () => (await c.stats()).memoryBytes;
    await new Promise((resolve) => {
      if (c.status?.state === "open") return resolve();
      const off = c.on("status", (s) => s.state === "open" && (off(), resolve()));
    });
  } else if (mode === "jstab") {
    // tabmux's own worker with the page's side written in plain JavaScript: the messages of
    // crates/web/src/protocol.rs by hand (a hello, sends that settle on their acknowledgement,
    // frames to the listener, the drained count). Not the library (no locks, no replacement
    // worker, no routing): a measurement of the most a page's client could save.
    const build = (await import("/dist/tab/build-id.js")).default;
    const w = new SharedWorker("/shared-websocket-worker.js", { name: `tabmux-v1-${build}-xl`, extendedLifetime: true });
    const sends = settlingSends(w.port);
    let handled = 0, opened = null;
    const item = (m) => {
      if (typeof m === "number") return sends.settled(m);
      if (typeof m !== "string") return m?.t === "status" && m.status.state === "open" && opened?.();
      onFrame(m);
      if (++handled % 256 === 0) w.port.postMessage({ t: "drained", n: handled });
    };
    connectAt = performance.now() - t0;
    await new Promise((resolve) => {
      opened = resolve;
      w.port.onmessage = ({ data }) => (Array.isArray(data) ? data.forEach(item) : item(data));
      const tabId = Math.random().toString(36).slice(2, 14);
      w.port.postMessage({ t: "hello", v: 1, build, tabId, options: { url, heartbeat: false } });
    });
    send = sends.send;
  } else if (mode === "bare" || mode === "acked") {
    // "acked": a send that settles, as tabmux's does, in a few lines of JavaScript (the
    // promise's resolve kept by id; the worker's acknowledgement is the id, alone or in front
    // of a frame). "bare" posts the text and hears nothing back.
    connectAt = performance.now() - t0;
    const w = new SharedWorker("/bench/bare-worker.js", { name: `bare-${run}` });
    const sends = settlingSends(w.port);
    const item = (m) => (typeof m === "number" ? sends.settled(m) : onFrame(m));
    await new Promise((resolve) => {
      w.port.onmessage = ({ data }) => {
        if (data?.t === "open") resolve();
        else if (Array.isArray(data)) data.forEach(item);
        else item(data);
      };
      w.port.postMessage({ t: "hello", url });
    });
    send = mode === "acked" ? sends.send : (s) => w.port.postMessage(s);
  } else {
    connectAt = performance.now() - t0;
    const ws = new WebSocket(url);
    ws.onmessage = (e) => onFrame(e.data);
    await new Promise((resolve) => (ws.onopen = resolve));
    send = (s) => ws.send(s);
  }
  openAt = performance.now() - t0;
  note("ready", { mem: await memory(), openMs: openAt });
}

start().catch((e) => note("error", { message: String(e?.message ?? e) }));
