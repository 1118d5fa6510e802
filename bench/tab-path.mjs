// `npm run bench:tab`: what tabmux's client costs a tab per message, against a bare JS
// SharedWorker's port (bench/bare-worker.js) in the same page and the same run, one message
// at a time (nothing saturated, as in an app at a low rate). Two baselines on that port:
// "bare" posts each send as the text alone and hears nothing back; "acked" does what a send
// that settles needs, in ten lines of JavaScript: it posts `{ t: "send", id, data }`, keeps
// the promise's resolve in a Map, and the worker acknowledges as tabmux's does on the wire
// (the id with the next frame, or alone after 20 ms). The phases:
// - sends: `client.send(text)` against the baselines' posts, each call alone (a task
//   between calls);
// - frames: the server's ticker sends a 100-byte frame every 3 ms;
// - frames answered: the same, and the listener sends on every 2nd or every 4th frame (as the
//   paced benchmark's tabs answer its probes), so acknowledgements come too, each riding the
//   next frame (a listener's send never asks for its acknowledgement at once:
//   `tabmux_core::ack_hold`).
// Three figures for each: the main thread's busy time per message (the DevTools protocol's
// `TaskDuration`: every task of the page, the browser's own work in them included); the JS
// time of the call (a send) or from the port's message event to the app's listener (a
// frame); and the port messages per message. Chromium's `performance.now()` here is
// coarsened (100 µs, with jitter), so the times are means over BENCH_TAB_N messages (default
// 4,000); the table has the median of BENCH_REPS repetitions (default 3), the modes rotating. `BENCH_TAB_PROFILE=1` also runs the V8
// sampling profiler on each mode's page in each phase (wasm function names kept in a build made
// for it, rebuilt without them at the end) and prints its top functions by self time per
// message. `BENCH_TAB_TRACE=1` instead records a Chromium trace of each phase and prints the
// page's main-thread trace events by name per message (task, message dispatch, function calls,
// serialization, microtasks, GC). Talks only to its own server on 127.0.0.1.
import { setup, median } from "./setup.mjs";
import { selfTimes } from "./cdp.mjs";
import { build } from "../scripts/build.mjs";

const N = Number(process.env.BENCH_TAB_N ?? 4000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const PROFILE = process.env.BENCH_TAB_PROFILE === "1";
// BENCH_TAB_TRACE=1: a Chromium trace of each mode's page in each phase; prints the page's
// main-thread trace events by name (µs per message; an event's time counts under its own name
// and again under each event around it), which tells apart the browser's own work (message
// dispatch, microtasks, GC, compiling) that the V8 profile lumps together as "(program)".
// Tracing slows everything down: compare the modes, not the figures with an untraced run.
const TRACE = process.env.BENCH_TAB_TRACE === "1";
const TRACE_CATEGORIES = ["toplevel", "v8", "devtools.timeline", "disabled-by-default-v8.gc", "disabled-by-default-devtools.timeline", "blink"];
// BENCH_OTHER: a folder of the repository holding another build of the package (a copy of
// dist/), run as a fourth mode, "other", for an A/B of two builds in one run.
const OTHER = process.env.BENCH_OTHER;
const { helpers, server } = await setup({ names: PROFILE });
const browser = await helpers.launchBrowser();

/** A page in a new browser context (so a worker of its own) on a new channel, connected in
 * `mode`. */
async function open(mode, channel) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.http}/bench/tab-path.html`);
  await page.waitForFunction(() => document.title === "ready");
  const url = server.ws(`/ws/${channel}`);
  await page.evaluate(async ({ mode, url, other }) => {
    const note = () => {
      AT.total += performance.now() - AT.start;
      if (++AT.n % AT.answer === 0) send('{"probe-ack":1234567}');
    };
    if (mode === "tabmux" || mode === "other") {
      const c = mode === "other"
        ? await (await import(`/${other}/index.js`)).connect({ url, heartbeat: false, workerUrl: `/${other}/worker/shared-websocket-worker.js` })
        : await tabmux.connect({ url, heartbeat: false });
      await new Promise((resolve) => (c.status?.state === "open" ? resolve() : c.on("status", (s) => s.state === "open" && resolve())));
      c.on("message", note);
      globalThis.send = (d) => c.send(d);
    } else {
      const w = new SharedWorker("/bench/bare-worker.js", { name: `bare-${url}` });
      const waiting = new Map();
      let id = 0;
      const item = (m) => (typeof m === "number" ? (waiting.get(m)(), waiting.delete(m)) : note());
      await new Promise((resolve) => {
        w.port.onmessage = ({ data }) => {
          if (data?.t === "open") resolve();
          else if (Array.isArray(data)) data.forEach(item);
          else item(data);
        };
        w.port.postMessage({ t: "hello", url });
      });
      globalThis.send =
        mode === "acked"
          ? (data) => new Promise((resolve) => (waiting.set(++id, resolve), w.port.postMessage({ t: "send", id, data })))
          : (d) => w.port.postMessage(d);
    }
  }, { mode, url, other: OTHER });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  return { context, page, cdp };
}

/** The page's main-thread busy time so far, in ms. */
async function busyMs(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return 1000 * metrics.find((m) => m.name === "TaskDuration").value;
}

/** The top 20 functions by self time per message (µs) in a V8 CPU profile, idle left out. */
function perMessage(profile, n) {
  return selfTimes(profile)
    .byFunction.filter(([name]) => name !== "(idle)")
    .slice(0, 20)
    .map(([name, us]) => ({ "µs per message": +(us / n).toFixed(2), name: name.slice(0, 120) }));
}

/** The trace's complete events on the busiest renderer main thread, by name: µs per message. */
function traceByName(trace, n) {
  const events = JSON.parse(trace.toString()).traceEvents;
  const mains = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  const perThread = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== "X" || !mains.has(key)) continue;
    const names = perThread.get(key) ?? perThread.set(key, new Map()).get(key);
    names.set(e.name, (names.get(e.name) ?? 0) + (e.dur ?? 0));
  }
  const busiest = [...perThread.values()].sort((a, b) => (b.get("ThreadControllerImpl::RunTask") ?? 0) - (a.get("ThreadControllerImpl::RunTask") ?? 0))[0] ?? new Map();
  return [...busiest].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([name, us]) => ({ "µs per message": +(us / n).toFixed(2), name }));
}

/** Runs `phase` (which returns its figures), with the profiler or the trace on when asked. */
async function profiled(cdp, label, phase, page) {
  if (TRACE) {
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const r = await phase();
    const trace = await browser.stopTracing();
    console.log(`\n${label}: the page's main thread, trace events by name`);
    console.table(traceByName(trace, N));
    return r;
  }
  if (!PROFILE) return phase();
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.send("Profiler.start");
  const r = await phase();
  const { profile } = await cdp.send("Profiler.stop");
  console.log(`\n${label}: top functions by self time`);
  console.table(perMessage(profile, N));
  return r;
}

async function sendCost(page, cdp) {
  const before = await busyMs(cdp);
  await page.evaluate(() => (AT.events = 0));
  const js = await page.evaluate(async (N) => {
    const data = '{"probe-ack":1234567}';
    let busy = 0;
    for (let i = 0; i < N; i++) {
      await new Promise((r) => setTimeout(r, 0));
      const t = performance.now();
      send(data);
      busy += performance.now() - t;
    }
    return (1000 * busy) / N;
  }, N);
  // The 20 ms an acknowledgement may wait, and then some.
  await helpers.sleep(100);
  return { js, task: (1000 * ((await busyMs(cdp)) - before)) / N, events: (await page.evaluate(() => AT.events)) / N };
}

async function frameCost(page, cdp, channel, answer) {
  await page.evaluate((answer) => Object.assign(AT, { total: 0, n: 0, events: 0, answer: answer || Infinity }), answer);
  const before = await busyMs(cdp);
  await server.ctl(`/control/ticker?channel=${channel}&ms=3&count=${N}&size=100`);
  await helpers.until(() => page.evaluate((N) => AT.n >= N, N), `${N} frames`, N * 3 + 60_000);
  await helpers.sleep(100);
  const task = (1000 * ((await busyMs(cdp)) - before)) / N;
  const { js, events } = await page.evaluate(() => ({ js: (1000 * AT.total) / AT.n, events: AT.events / AT.n }));
  return { js, task, events };
}

const PHASES = ["sends", "frames", "frames, every 2nd answered", "frames, every 4th answered"];
const MODES = ["tabmux", "bare", "acked", ...(OTHER ? ["other"] : [])];
const got = Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(PHASES.map((p) => [p, []]))]));
let runs = 0;
for (let rep = 0; rep < REPS; rep++) {
  for (const mode of [...MODES.slice(rep % MODES.length), ...MODES.slice(0, rep % MODES.length)]) {
    const channel = `tab-path-${runs++}`;
    const { context, page, cdp } = await open(mode, channel);
    try {
      const r = {
        sends: await profiled(cdp, `${mode}, sends`, () => sendCost(page, cdp), page),
        frames: await profiled(cdp, `${mode}, frames`, () => frameCost(page, cdp, channel, 0), page),
        "frames, every 2nd answered": await profiled(cdp, `${mode}, frames, every 2nd answered`, () => frameCost(page, cdp, channel, 2), page),
        "frames, every 4th answered": await profiled(cdp, `${mode}, frames, every 4th answered`, () => frameCost(page, cdp, channel, 4), page),
      };
      for (const p of PHASES) got[mode][p].push(r[p]);
      console.log(`rep ${rep} ${mode.padEnd(6)}: ${PHASES.map((p) => `${p} ${r[p].task.toFixed(1)} µs busy (JS ${r[p].js.toFixed(1)}, ${r[p].events.toFixed(2)} port messages each)`).join(", ")}`);
    } finally {
      await context.close();
    }
  }
}
const f1 = (x) => +x.toFixed(1);
const rows = PHASES.map((p) => {
  const [t, b, a, o] = MODES.map((m) => ({ task: median(got[m][p].map((x) => x.task)), js: median(got[m][p].map((x) => x.js)), events: median(got[m][p].map((x) => x.events)) }));
  const other = o ? { "other busy µs": f1(o.task), "vs other": +(t.task / o.task).toFixed(2), "other JS µs": f1(o.js) } : {};
  return {
    per: p === "sends" ? "send" : "frame", phase: p, "busy µs": f1(t.task), "bare busy µs": f1(b.task), "acked busy µs": f1(a.task),
    "vs bare": +(t.task / b.task).toFixed(2), "vs acked": +(t.task / a.task).toFixed(2),
    "JS µs": f1(t.js), "bare JS µs": f1(b.js), "acked JS µs": f1(a.js), "port messages": +t.events.toFixed(2), "acked port messages": +a.events.toFixed(2),
    ...other,
  };
});
console.log(`\nPer message in one tab, median of ${REPS} repetitions of ${N} (bare: a bare JS SharedWorker's port; acked: the same with sends that settle):`);
console.table(rows);
await browser.close();
await server.stop();
if (PROFILE) await build(); // the shipped form again (no names)
