// `npm run bench`: tabmux (shared and direct) against a bare-JS SharedWorker and one plain
// WebSocket per tab, measured side by side in one run, interleaved (the mode order rotated
// every repetition) and repeated; medians with min–max. Chromium is launched directly (no
// DevTools protocol: Playwright would copy every frame a page's own WebSocket receives and
// understate the per-tab baseline about 2×); tab 0 opens the other tabs without an opener
// (each its own renderer process, as a user's tabs), and every tab reports to the dev server.
// Browser CPU: the run time of every thread of every process of the browser (its process
// group; /proc's schedstat, in ns) over the measured window, per 1,000 frames delivered to tabs. Writes bench/results/*.json and
// docs/BENCHMARKS.md. Talks only to its own server on 127.0.0.1; every run is bounded.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { SIDES } from "../scripts/size-check.mjs";
import { root } from "../scripts/bootstrap.mjs";
import { setup, median } from "./setup.mjs";

const REPS = Number(process.env.BENCH_REPS ?? 5);
// Start-up runs are short: more repetitions of them (default: as many as the throughput runs).
const START_REPS = Number(process.env.BENCH_START_REPS ?? REPS);
const TABS = (process.env.BENCH_TABS ?? "1,4,8").split(",").map(Number);
const SIZES = [1024, 10240];
const FRAMES = { 1024: Number(process.env.BENCH_FRAMES_1K ?? 20000), 10240: Number(process.env.BENCH_FRAMES_10K ?? 4000) };
const MODES = ["shared", "direct", "bare", "pertab"];
const PROBES = 200;
// The paced cases: traffic that does not saturate anything, as most apps have. Each is
// `<tabs>x<frames/s to each tab>` (BENCH_PACED), a 1 KB frame at that rate for PACED_S
// seconds, latency probes all along.
const PACED = (process.env.BENCH_PACED ?? "1x50,1x200,1x1000,8x50,8x200,8x1000").split(",").map((c) => {
  const [tabs, rate] = c.split("x").map(Number);
  return { tabs, rate };
});
const PACED_S = Number(process.env.BENCH_PACED_S ?? 5);
// Before each paced case's traffic: WARM_S seconds of 1,000 frames/s and a probe every 10 ms,
// unmeasured (V8 compiles the hot code again, optimized, on background threads: once per
// page, not per frame; measured inside the case it was half of the extra threads' time at
// 1 x 50), then the tabs connected and quiet: SETTLE_S seconds unmeasured (the browser still
// busy starting: pages, compiling, collecting), then IDLE_S seconds of the browser's CPU at
// rest, which is taken off the traffic's to give the CPU above idle. At 50 frames/s the
// resting browser (timers, the other processes) is much of it.
const WARM_S = Number(process.env.BENCH_WARM_S ?? 2);
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 2);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 2);
const ONLY = process.env.BENCH_ONLY ?? ""; // "startup" or "paced": only those figures, printed (docs untouched)
// BENCH_THREADS=1: each paced case also prints its CPU and wake-ups per 1,000 frames by thread
// name (the worker's thread, a tab's main thread, IO, compositor…), summed over processes.
const THREADS = process.env.BENCH_THREADS === "1";

const { helpers: { sleep }, chromium, server } = await setup();
/** The CPU time of every thread of each live process of group `pgid`: pid → { kind, threads:
 *  tid → ms, runs: tid → times it was scheduled (its wake-ups, near enough), names: tid →
 *  its name (with BENCH_THREADS) }; kind is the process's `--type` (renderer, gpu-process,
 *  utility) or "browser".
 *  Read from each thread's /proc/<pid>/task/<tid>/schedstat (its run time in ns), not from
 *  the process's utime + stime, which count in clock ticks (10 ms): a paced case of 250
 *  frames uses a few hundred ms of CPU in all, spread over half a dozen processes, each
 *  rounded to a tick. */
function cpuByProcess(pgid) {
  const out = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    let stat, cmdline, tids;
    try {
      stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // After "(comm) ": state ppid pgrp …
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue;
      cmdline = readFileSync(`/proc/${d}/cmdline`, "utf8");
      tids = readdirSync(`/proc/${d}/task`);
    } catch {
      continue; // ended meanwhile
    }
    const threads = new Map(), runs = new Map(), names = new Map();
    for (const t of tids) {
      try {
        const [ns, , slices] = readFileSync(`/proc/${d}/task/${t}/schedstat`, "utf8").split(" ");
        if (THREADS) names.set(t, readFileSync(`/proc/${d}/task/${t}/comm`, "utf8").trim());
        threads.set(t, Number(ns) / 1e6);
        runs.set(t, Number(slices));
      } catch {} // ended meanwhile
    }
    out.set(d, { kind: /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? "browser", threads, runs, names });
  }
  return out;
}
/** How many renderer processes process group `pgid` has (one per tab when tabs have no opener). */
const renderers = (pgid) => [...cpuByProcess(pgid).values()].filter((p) => p.kind === "renderer").length;
/** The CPU (ms) used between two `cpuByProcess` readings, in all and where it went: the
 *  browser process, the renderers from the busiest (the worker's is one of them; /proc does
 *  not say which), and the other processes together; each divided by `per`. A thread new
 *  since the first reading counts from zero; one that ended before the second takes its last
 *  time with it (`ended` counts them: Chromium ends a pool thread only after it idled for
 *  many seconds). */
function cpuSplit(before, after, per = 1) {
  const r = [];
  let browser = 0, other = 0, ended = 0;
  for (const [pid, { kind, threads }] of after) {
    let d = 0;
    for (const [tid, ms] of threads) d += ms - (before.get(pid)?.threads.get(tid) ?? 0);
    d /= per;
    if (kind === "renderer") r.push(d);
    else if (kind === "browser") browser += d;
    else other += d;
  }
  for (const [pid, { threads }] of before) for (const tid of threads.keys()) ended += after.get(pid)?.threads.has(tid) ? 0 : 1;
  const renderers = r.sort((a, b) => b - a);
  return { total: browser + other + renderers.reduce((a, b) => a + b, 0), browser, other, renderers, ended };
}
/** Between two `cpuByProcess` readings, per thread name (numbers stripped: a pool's threads
 *  together) and process kind: [ms, wake-ups] each divided by `per`, busiest first. */
function byThread(before, after, per) {
  const out = new Map();
  for (const [pid, { kind, threads, runs, names }] of after) {
    for (const [tid, ms] of threads) {
      const key = `${kind}:${(names.get(tid) ?? "?").replace(/[0-9]+$/, "")}`;
      const was = before.get(pid);
      const [m, n] = out.get(key) ?? [0, 0];
      out.set(key, [m + (ms - (was?.threads.get(tid) ?? 0)) / per, n + (runs.get(tid) - (was?.runs.get(tid) ?? 0)) / per]);
    }
  }
  return [...out].filter(([, [m]]) => m >= 0.5).sort((a, b) => b[1][0] - a[1][0]);
}
const pct = (xs, p) => { const v = [...xs].sort((a, b) => a - b); return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] : null; };

async function waitNotes(run, kind, n, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const notes = (await server.ctl(`/control/notes?run=${run}`)).map((x) => ({ at: x.at, ...x.note }));
    const err = notes.find((x) => x.kind === "error");
    if (err) throw new Error(`${run}: a tab failed: ${err.message}`);
    const got = notes.filter((x) => x.kind === kind);
    if (got.length >= n) return got;
    await sleep(20);
  }
  throw new Error(`${run}: timed out waiting for ${n} "${kind}" notes`);
}

let seq = 0;
async function launch(params, beforeStart = async () => {}) {
  const run = `r${++seq}`;
  const channel = `bench${seq}`;
  const url = server.ws(`/ws/${channel}`);
  await beforeStart(channel);
  const qs = new URLSearchParams({ run, tab: "0", url, ...params });
  const dir = mkdtempSync(join(tmpdir(), "tabmux-bench-"));
  const proc = spawn(chromium, [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-popup-blocking",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
    `--user-data-dir=${dir}`, `${server.http}/bench/page.html?${qs}`,
  ], { stdio: "ignore", detached: true });
  const stop = () => {
    try { process.kill(-proc.pid, "SIGKILL"); } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  return { run, channel, stop, cpu: () => cpuByProcess(proc.pid), renderers: () => renderers(proc.pid) };
}

async function measure(mode, tabs, size, integrity) {
  const frames = FRAMES[size];
  const b = await launch({ mode, tabs: String(tabs), frames: String(frames), integrity: integrity ? "1" : "0" });
  try {
    const ready = await waitNotes(b.run, "ready", tabs, 30_000);
    const conns = (await server.ctl("/control/stats")).byChannel[b.channel] ?? 0;
    const cpu0 = b.cpu();
    const sent = await server.ctl(`/control/broadcast?channel=${b.channel}&n=${frames}&size=${size}`);
    const done = await waitNotes(b.run, "done", tabs, 180_000);
    const cpu = cpuSplit(cpu0, b.cpu()).total;
    const seconds = (Math.max(...done.map((d) => d.at)) - sent.at) / 1000;
    await server.ctl(`/control/probe?channel=${b.channel}&n=${PROBES}&interval_ms=5`);
    await sleep(PROBES * 5 + 700);
    const rtts = (await server.ctl(`/control/probes?channel=${b.channel}`)).rttMs;
    return {
      mode, tabs, size, integrity, conns,
      fps: (frames * tabs) / seconds,
      cpuPer1k: cpu / ((frames * tabs) / 1000),
      // Missing sequence numbers; a tab missing its tail never reports done (a timeout error).
      lost: done.reduce((n, d) => n + d.gaps, 0),
      dups: done.reduce((n, d) => n + d.dups, 0),
      rtt: { p50: pct(rtts, 50), p95: pct(rtts, 95), p99: pct(rtts, 99), samples: rtts.length },
      memBefore: ready.find((r) => r.tab === 0)?.mem ?? null,
      memAfter: done.find((d) => d.tab === 0)?.mem ?? null,
    };
  } finally {
    b.stop();
  }
}

/** `tabs` tabs, one 1 KB frame every 1000/`rate` ms for PACED_S seconds, probes all along
 *  (every 10 ms, or every second frame's interval where that is longer): round trips
 *  under a steady load, and the browser's CPU per 1,000 delivered frames. */
async function paced(mode, { tabs, rate }) {
  const frames = rate * PACED_S;
  const every = Math.round(1000 / rate);
  const probeMs = Math.max(10, 2 * every);
  const warm = WARM_S * 1000; // frames, one a millisecond
  const page = mode === "other" ? { mode: "shared", dist: `/${OTHER}` } : { mode };
  const b = await launch({ ...page, tabs: String(tabs), frames: String(frames + warm), integrity: "0" });
  try {
    await waitNotes(b.run, "ready", tabs, 30_000);
    const conns = (await server.ctl("/control/stats")).byChannel[b.channel] ?? 0;
    const procs = b.renderers();
    if (warm) {
      await server.ctl(`/control/ticker?channel=${b.channel}&ms=1&count=${warm}&size=1024`);
      await server.ctl(`/control/probe?channel=${b.channel}&n=${warm / 10}&interval_ms=10`);
      await sleep(warm + 500);
    }
    await sleep(SETTLE_S * 1000);
    await server.ctl(`/control/probes?channel=${b.channel}`); // the warm-up's round trips, dropped
    const rest0 = b.cpu();
    const restAt = performance.now();
    await sleep(IDLE_S * 1000);
    const idlePerS = cpuSplit(rest0, b.cpu()).total / ((performance.now() - restAt) / 1000);
    const cpu0 = b.cpu();
    const at0 = performance.now();
    await server.ctl(`/control/ticker?channel=${b.channel}&ms=${every}&count=${frames}&size=1024`);
    await server.ctl(`/control/probe?channel=${b.channel}&n=${Math.floor((PACED_S * 1000) / probeMs)}&interval_ms=${probeMs}`);
    const done = await waitNotes(b.run, "done", tabs, PACED_S * 1000 + 120_000);
    const per = (frames * tabs) / 1000;
    const cpu1 = b.cpu();
    const split = cpuSplit(cpu0, cpu1, per);
    if (THREADS) {
      console.log(`${mode} ${tabs} × ${rate}: per 1,000 frames, ms of CPU / wake-ups, by thread`);
      for (const [name, [ms, n]] of byThread(cpu0, cpu1, per)) console.log(`  ${name.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms ${n.toFixed(0).padStart(7)}`);
    }
    const aboveIdle = split.total - (idlePerS * (performance.now() - at0)) / 1000 / per;
    await sleep(700); // the last probes' answers
    const rtts = (await server.ctl(`/control/probes?channel=${b.channel}`)).rttMs;
    return {
      mode, tabs, rate, conns, renderers: procs, cpuPer1k: split.total, idlePerS, aboveIdle, split,
      lost: done.reduce((n, d) => n + d.gaps, 0), dups: done.reduce((n, d) => n + d.dups, 0),
      rtt: { p50: pct(rtts, 50), p95: pct(rtts, 95), p99: pct(rtts, 99), samples: rtts.length },
    };
  } finally {
    b.stop();
  }
}

async function startup(mode) {
  // The ticker (a frame every 2 ms) runs before the browser starts: a tab's first frame
  // follows its socket's open (or its attach) by at most 2 ms.
  const ticker = (channel) => server.ctl(`/control/ticker?channel=${channel}&ms=2&count=15000`);
  const b = await launch({ mode, tabs: "2", frames: "1000000", startup: "1" }, ticker);
  try {
    const firsts = await waitNotes(b.run, "first", 2, 30_000);
    const cold = firsts.find((f) => f.tab === 0);
    const attach = firsts.find((f) => f.tab === 1);
    // From connect() (or `new SharedWorker` / `new WebSocket`) to the first frame, and from
    // the page's script start (which includes loading the library) to it.
    return {
      mode, coldMs: cold.ms - cold.connectAt, attachMs: attach.ms - attach.connectAt, coldPageMs: cold.ms, attachPageMs: attach.ms,
      coldMarks: cold.marks, attachMarks: attach.marks,
    };
  } finally {
    b.stop();
  }
}

const raw = [];
const configs = [];
for (const size of SIZES) for (const tabs of TABS) for (const integrity of [false, true]) configs.push({ size, tabs, integrity });
// Each repetition starts the mode order one further along, so no mode always runs first.
const rotated = (list, rep) => [...list.slice(rep % list.length), ...list.slice(0, rep % list.length)];
for (let rep = 0; rep < (ONLY ? 0 : REPS); rep++) {
  for (const c of configs) {
    // Integrity options exist only in tabmux; the baselines run once per config either way.
    for (const mode of rotated(MODES, rep)) {
      if (c.integrity && (mode === "bare" || mode === "pertab")) continue;
      const r = await measure(mode, c.tabs, c.size, c.integrity);
      raw.push({ rep, ...r });
      console.log(`rep ${rep} ${mode.padEnd(6)} tabs ${c.tabs} ${c.size / 1024}KB integrity ${c.integrity ? "on " : "off"}: ${Math.round(r.fps)} frames/s, cpu ${r.cpuPer1k.toFixed(1)} ms/1k, rtt p50 ${r.rtt.p50?.toFixed(2)} ms, conns ${r.conns}, lost ${r.lost}, dups ${r.dups}`);
    }
  }
}
// Also "acked" (not by default): the bare worker with sends that settle, as tabmux's do (the
// page keeps each send's promise; the worker acknowledges it, with the next frame or after
// 20 ms), which tells the cost of a send's promise from the cost of tabmux.
// And "other": tabmux shared from another build of the package, a copy of dist/ at
// BENCH_OTHER (a folder of the repository; default target/bench-other), for an A/B of two
// builds interleaved in one run. And "jstab": tabmux's worker with the page's side written in
// plain JavaScript in bench/page.js (the protocol's messages by hand), the most a page's
// client could save.
const PACED_MODES = (process.env.BENCH_PACED_MODES ?? "shared,bare,direct,pertab").split(",");
const OTHER = process.env.BENCH_OTHER ?? "target/bench-other";
if (PACED_MODES.includes("other") && !existsSync(join(root, OTHER, "index.js"))) throw new Error(`the "other" mode needs a build at ${OTHER} (cp -r dist ${OTHER})`);
const pacedRaw = [];
for (let rep = 0; rep < (ONLY && ONLY !== "paced" ? 0 : REPS); rep++) {
  for (const c of PACED) {
    for (const mode of rotated(PACED_MODES, rep)) {
      const r = await paced(mode, c);
      pacedRaw.push({ rep, ...r });
      console.log(`rep ${rep} paced ${mode.padEnd(6)} ${c.tabs} tab${c.tabs > 1 ? "s" : ""} × ${c.rate} frames/s: rtt p50 ${r.rtt.p50?.toFixed(2)} p99 ${r.rtt.p99?.toFixed(2)} ms (${r.rtt.samples} probes), cpu ${r.cpuPer1k.toFixed(1)} ms/1k, ${r.aboveIdle.toFixed(1)} above idle (idle ${r.idlePerS.toFixed(0)} ms/s; browser process ${r.split.browser.toFixed(0)}, renderers ${r.split.renderers.map((x) => x.toFixed(0)).join("/")}, other ${r.split.other.toFixed(0)}; threads ended ${r.split.ended}), renderers ${r.renderers}, conns ${r.conns}, lost ${r.lost}, dups ${r.dups}`);
    }
  }
}
const starts = [];
for (let rep = 0; rep < (ONLY && ONLY !== "startup" ? 0 : START_REPS); rep++) {
  for (const mode of ["shared", "bare", "pertab"]) {
    const s = await startup(mode);
    starts.push(s);
    console.log(`rep ${rep} start-up ${mode.padEnd(6)}: first tab ${s.coldMs.toFixed(1)} ms ${JSON.stringify(s.coldMarks)}, attaching tab ${s.attachMs.toFixed(1)} ms ${JSON.stringify(s.attachMarks)}`);
  }
}
await server.stop();

// Medians per (config, mode), and ratios to the bare worker of the same config.
const rows = [];
for (const c of configs) {
  const bare = raw.filter((r) => r.mode === "bare" && r.tabs === c.tabs && r.size === c.size);
  const bfps = median(bare.map((r) => r.fps));
  const bcpu = median(bare.map((r) => r.cpuPer1k));
  const bp99 = median(bare.map((r) => r.rtt.p99));
  for (const mode of MODES) {
    const rs = raw.filter((r) => r.mode === mode && r.tabs === c.tabs && r.size === c.size && r.integrity === (mode === "bare" || mode === "pertab" ? false : c.integrity));
    if (!rs.length || (c.integrity && (mode === "bare" || mode === "pertab"))) continue;
    const fps = median(rs.map((r) => r.fps));
    const p99 = median(rs.map((r) => r.rtt.p99));
    rows.push({
      size: c.size, tabs: c.tabs, integrity: c.integrity, mode, conns: Math.max(...rs.map((r) => r.conns)),
      fps, fpsMin: Math.min(...rs.map((r) => r.fps)), fpsMax: Math.max(...rs.map((r) => r.fps)), ratio: fps / bfps,
      cpu: median(rs.map((r) => r.cpuPer1k)), cpuRatio: median(rs.map((r) => r.cpuPer1k)) / bcpu, p50: median(rs.map((r) => r.rtt.p50)), p95: median(rs.map((r) => r.rtt.p95)), p99, p99VsBare: p99 - bp99,
      lost: rs.reduce((n, r) => n + r.lost, 0), dups: rs.reduce((n, r) => n + r.dups, 0),
      memBefore: median(rs.map((r) => r.memBefore).filter((m) => m != null)), memAfter: median(rs.map((r) => r.memAfter).filter((m) => m != null)),
    });
  }
}
// Medians per (tabs, rate, mode); CPU as a ratio to the bare worker's and round trips as the
// difference from its, in the same run.
const pacedRows = PACED.flatMap(({ tabs, rate }) => {
  const of = (mode) => pacedRaw.filter((r) => r.mode === mode && r.tabs === tabs && r.rate === rate);
  const bare = of("bare");
  const bm = (f) => median(bare.map(f));
  return PACED_MODES.map((mode) => {
    const rs = of(mode);
    const m = (f) => median(rs.map(f));
    return {
      tabs, rate, mode, conns: Math.max(...rs.map((r) => r.conns)), p50: m((r) => r.rtt.p50), p99: m((r) => r.rtt.p99),
      p50Min: Math.min(...rs.map((r) => r.rtt.p50)), p50Max: Math.max(...rs.map((r) => r.rtt.p50)),
      p99Min: Math.min(...rs.map((r) => r.rtt.p99)), p99Max: Math.max(...rs.map((r) => r.rtt.p99)),
      p50VsBare: m((r) => r.rtt.p50) - bm((r) => r.rtt.p50), p99VsBare: m((r) => r.rtt.p99) - bm((r) => r.rtt.p99),
      cpu: m((r) => r.cpuPer1k), cpuRatio: m((r) => r.cpuPer1k) / bm((r) => r.cpuPer1k),
      idle: m((r) => r.idlePerS), aboveIdle: m((r) => r.aboveIdle), aboveIdleRatio: m((r) => r.aboveIdle) / bm((r) => r.aboveIdle),
      lost: rs.reduce((n, r) => n + r.lost, 0), dups: rs.reduce((n, r) => n + r.dups, 0),
    };
  }).filter((r) => Number.isFinite(r.conns));
});
if (ONLY === "paced") {
  console.table(pacedRows);
  process.exit(0);
}
// Medians per mode; for tabmux also the median of each start-up mark (ms since the page's
// script started): entry (module evaluated), wasm (client ready), welcome (worker accepted
// the hello), open (socket open), then the first frame.
const markMedians = (list, key) => {
  const names = ["entry", "wasm", "welcome", "open"];
  return Object.fromEntries(names.map((n) => [n, median(list.map((s) => s[key]?.[n]).filter((v) => v != null))]));
};
const startRows = ["shared", "bare", "pertab"].map((mode) => {
  const list = starts.filter((s) => s.mode === mode);
  return {
    mode, coldMs: median(list.map((s) => s.coldMs)), attachMs: median(list.map((s) => s.attachMs)),
    coldPageMs: median(list.map((s) => s.coldPageMs)), attachPageMs: median(list.map((s) => s.attachPageMs)),
    coldMin: Math.min(...list.map((s) => s.coldMs)), coldMax: Math.max(...list.map((s) => s.coldMs)),
    attachMin: Math.min(...list.map((s) => s.attachMs)), attachMax: Math.max(...list.map((s) => s.attachMs)),
    coldMarks: markMedians(list, "coldMarks"), attachMarks: markMedians(list, "attachMarks"),
  };
});
if (ONLY === "startup") {
  console.table(startRows.map(({ coldMarks, attachMarks, ...r }) => r));
  for (const r of startRows) console.log(r.mode, "cold marks", JSON.stringify(r.coldMarks), "attach marks", JSON.stringify(r.attachMarks));
  process.exit(0);
}
const sizeOf = (files) => files.reduce((a, f) => { const b = readFileSync(join(root, f)); return { raw: a.raw + b.length, gzip: a.gzip + gzipSync(b, { level: 9 }).length }; }, { raw: 0, gzip: 0 });
const sizes = Object.fromEntries(Object.entries(SIDES).map(([side, files]) => [side, sizeOf(files)]));
const machine = {
  cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30),
  chromium: execFileSync(chromium, ["--version"], { encoding: "utf8" }).trim(), node: process.version,
};
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(join(root, "bench", "results", `${stamp}.json`), JSON.stringify({ machine, reps: REPS, frames: FRAMES, raw, rows, pacedRaw, pacedRows, starts: startRows, sizes }, null, 2));

// docs/BENCHMARKS.md with a table and an SVG chart.
const f0 = (x) => (x == null ? "–" : Math.round(x).toLocaleString("en-US"));
const f2 = (x) => (x == null ? "–" : x.toFixed(2));
const names = { shared: "tabmux shared", direct: "tabmux direct", bare: "bare-JS worker", acked: "bare-JS worker, sends acked", jstab: "tabmux worker, page side in plain JS", other: "tabmux shared, other build", pertab: "socket per tab" };
let md = `# Benchmarks\n\nGenerated by \`npm run bench\` (${REPS} interleaved repetitions, the mode order rotated each time; medians, min–max where shown). Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.chromium}; Node ${machine.node}; dev server in release mode on 127.0.0.1. Chromium is launched directly, without the DevTools protocol; tab 0 opens the others without an opener, so each tab has its own renderer process. Browser CPU: the run time of all the browser's threads (/proc's schedstat, in ns) over the measured window, per 1,000 frames delivered to tabs.\n\n`;
md += `Throughput: frames × tabs / (server time from the broadcast to the last tab's last frame). Round trips: ${PROBES} probes 5 ms apart, server → tab → server, on the server's clock. "vs bare" is the ratio to the bare-JS SharedWorker measured in the same run (throughput) or the difference (p99).\n\n`;
md += `| frame | tabs | integrity | mode | server sockets | frames/s (min–max) | vs bare | browser CPU ms / 1,000 frames | vs bare | RTT p50 / p95 / p99 ms | p99 vs bare | lost | dup | worker memory before → after |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n`;
for (const r of rows) md += `| ${r.size / 1024} KB | ${r.tabs} | ${r.integrity ? "on" : "off"} | ${names[r.mode]} | ${r.conns} | ${f0(r.fps)} (${f0(r.fpsMin)}–${f0(r.fpsMax)}) | ${f2(r.ratio)}× | ${f2(r.cpu)} | ${f2(r.cpuRatio)}× | ${f2(r.p50)} / ${f2(r.p95)} / ${f2(r.p99)} | ${r.p99VsBare >= 0 ? "+" : ""}${f2(r.p99VsBare)} | ${r.lost} | ${r.dups} | ${r.memBefore ? `${f0(r.memBefore)} → ${f0(r.memAfter)}` : "–"} |\n`;
md += `\n## Paced: 1 and 8 tabs at 50, 200 and 1,000 frames/s each (1 KB), ${PACED_S} s\n\nThe server sends one frame every 1000/rate ms and a latency probe every 10 ms (every two frame intervals at 50/s) all along: traffic that saturates nothing, as most apps have. "vs bare" is the ratio to the bare-JS SharedWorker of the same case in the same run (CPU) or the difference (round trips). A mode that needs more CPU than the machine has queues, and its round trips show it. Before the traffic: ${WARM_S} s of 1,000 frames/s and probes, unmeasured (V8 optimizes the hot code once per page, on background threads), then the tabs sit connected and quiet: ${SETTLE_S} s unmeasured (the browser finishing its start), then ${IDLE_S} s whose CPU ("idle", ms per second) is taken off the traffic's, to give the CPU the frames cost ("above idle").\n\n| tabs | frames/s each | mode | server sockets | RTT p50 ms (min–max) | vs bare | RTT p99 ms (min–max) | vs bare | browser CPU ms / 1,000 frames | vs bare | idle ms/s | above idle, ms / 1,000 frames | vs bare | lost | dup |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n`;
const signed = (x) => (x == null ? "–" : `${x >= 0 ? "+" : ""}${f2(x)}`);
for (const r of pacedRows) md += `| ${r.tabs} | ${f0(r.rate)} | ${names[r.mode]} | ${r.conns} | ${f2(r.p50)} (${f2(r.p50Min)}–${f2(r.p50Max)}) | ${signed(r.p50VsBare)} | ${f2(r.p99)} (${f2(r.p99Min)}–${f2(r.p99Max)}) | ${signed(r.p99VsBare)} | ${f2(r.cpu)} | ${f2(r.cpuRatio)}× | ${f0(r.idle)} | ${f2(r.aboveIdle)} | ${f2(r.aboveIdleRatio)}× | ${r.lost} | ${r.dups} |\n`;
const bareStart = startRows.find((s) => s.mode === "bare");
md += `\n## Start-up (2 tabs, ${START_REPS} repetitions: median, min–max)\n\nA ticker sends a frame every 2 ms from before the browser starts, so a first frame follows the socket's open (or a tab's attach) by at most 2 ms. The first tab starts the worker; the second is opened once the first has its first frame (a running worker). "Page start" adds loading the library (the bare worker and the plain socket have nothing to load).\n\n| mode | connect() → first frame, first tab (ms) | vs bare | joining tab: connect() → next frame (ms) | vs bare | page start → first frame, first tab / joining tab (ms) |\n|---|---|---|---|---|---|\n`;
for (const s of startRows) {
  md += `| ${names[s.mode]} | ${f2(s.coldMs)} (${f2(s.coldMin)}–${f2(s.coldMax)}) | ${f2(s.coldMs / bareStart.coldMs)}× | ${f2(s.attachMs)} (${f2(s.attachMin)}–${f2(s.attachMax)}) | ${f2(s.attachMs / bareStart.attachMs)}× | ${f2(s.coldPageMs)} / ${f2(s.attachPageMs)} |\n`;
}
const tm = startRows.find((s) => s.mode === "shared");
md += `\nWhere tabmux's start-up goes (medians of the page's performance marks, ms since the page's script started):\n\n| | entry module evaluated | client wasm ready | worker's welcome | socket open | first frame |\n|---|---|---|---|---|---|\n`;
md += `| first tab | ${f2(tm.coldMarks.entry)} | ${f2(tm.coldMarks.wasm)} | ${f2(tm.coldMarks.welcome)} | ${f2(tm.coldMarks.open)} | ${f2(tm.coldPageMs)} |\n| joining tab | ${f2(tm.attachMarks.entry)} | ${f2(tm.attachMarks.wasm)} | ${f2(tm.attachMarks.welcome)} | ${f2(tm.attachMarks.open)} | ${f2(tm.attachPageMs)} |\n`;
md += `\n## Size (gzip -9 of what each side fetches)\n\n| side | raw | gzip |\n|---|---|---|\n| page in shared mode (entry + thin client glue + wasm) | ${f0(sizes.tab.raw)} B | ${f0(sizes.tab.gzip)} B |\n| worker (script + glue + wasm) | ${f0(sizes.worker.raw)} B | ${f0(sizes.worker.gzip)} B |\n| direct-mode module (glue + wasm), fetched only in direct mode | ${f0(sizes.direct.raw)} B | ${f0(sizes.direct.gzip)} B |\n`;
// Chart: 1 KB frames, integrity off, frames/s per mode for each tab count.
const chartRows = rows.filter((r) => r.size === 1024 && !r.integrity);
const max = Math.max(...chartRows.map((r) => r.fps));
const colors = { shared: "#0969da", direct: "#54aeff", bare: "#8c959f", pertab: "#bf8700" };
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="300" font-family="sans-serif" font-size="12"><text x="10" y="18">frames/s delivered, 1 KB frames (medians)</text>`;
TABS.forEach((t, gi) => {
  const x0 = 60 + gi * 190;
  svg += `<text x="${x0 + 60}" y="290">${t} tab${t > 1 ? "s" : ""}</text>`;
  MODES.forEach((m, mi) => {
    const r = chartRows.find((r) => r.tabs === t && r.mode === m);
    if (!r) return;
    const h = (r.fps / max) * 230;
    svg += `<rect x="${x0 + mi * 38}" y="${270 - h}" width="32" height="${h}" fill="${colors[m]}"/><text x="${x0 + mi * 38}" y="${265 - h}" font-size="9">${Math.round(r.fps / 1000)}k</text>`;
  });
});
MODES.forEach((m, i) => (svg += `<rect x="${380 + (i % 2) * 130}" y="${30 + Math.floor(i / 2) * 16}" width="10" height="10" fill="${colors[m]}"/><text x="${394 + (i % 2) * 130}" y="${39 + Math.floor(i / 2) * 16}">${names[m]}</text>`));
svg += `</svg>\n`;
writeFileSync(join(root, "docs", "bench-throughput.svg"), svg);
md += `\n![throughput chart](bench-throughput.svg)\n\nRaw numbers: \`bench/results/${stamp}.json\` (not committed). Command: \`BENCH_REPS=${REPS} BENCH_START_REPS=${START_REPS}${process.env.BENCH_PACED_MODES ? ` BENCH_PACED_MODES=${PACED_MODES.join(",")}` : ""} npm run bench\`.\n`;
writeFileSync(join(root, "docs", "BENCHMARKS.md"), md);
console.log(md);
