// `npm run bench:profile [shared|bare] [seconds]`: where the CPU goes under the paced load of
// the benchmark (8 tabs, or PROFILE_TABS, each its own renderer, a 1 KB frame, or PROFILE_SIZE
// bytes, 1,000 a second, or PROFILE_RATE, with the paced case's latency probes). Builds the
// wasm with its function names (TABMUX_WASM_NAMES=1; rebuilt without them at the end), starts
// Chromium with a DevTools port, attaches the V8 sampling profiler to the SharedWorker and to
// tab 1 over raw CDP (no Network domain, so no frame copies), and prints each target's top
// functions by self time, wasm functions by name. Talks only to its own server on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "../scripts/build.mjs";
import { setup } from "./setup.mjs";
import { cdp, selfTimes } from "./cdp.mjs";

const mode = process.argv[2] ?? "shared";
const seconds = Number(process.argv[3] ?? 5);
const TABS = Number(process.env.PROFILE_TABS ?? 8);
const SIZE = Number(process.env.PROFILE_SIZE ?? 1024);
const TOP = Number(process.env.PROFILE_TOP ?? 25);
const RATE = Number(process.env.PROFILE_RATE ?? 1000);
// As the benchmark's paced case: a probe every two frame intervals, at least 10 ms apart.
const PROBE_MS = Math.max(10, 2 * Math.round(1000 / RATE));
const FRAMES = Math.round(seconds * RATE);

const { helpers: { sleep, until }, chromium, server } = await setup({ names: true });

/** The top functions by self time (ms, and share of the profile) from a V8 CPU profile. */
function topFunctions(profile) {
  const { totalUs, byFunction } = selfTimes(profile);
  return { totalMs: totalUs / 1000, top: byFunction.slice(0, TOP).map(([name, us]) => ({ ms: +(us / 1000).toFixed(1), share: `${((100 * us) / totalUs).toFixed(1)}%`, name })) };
}

const dir = mkdtempSync(join(tmpdir(), "tabmux-profile-"));
const channel = "profile";
const qs = new URLSearchParams({ run: "p1", tab: "0", url: server.ws(`/ws/${channel}`), mode, tabs: String(TABS), frames: String(FRAMES), integrity: "0" });
const proc = spawn(chromium, [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-dev-shm-usage", "--disable-popup-blocking", "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows", "--remote-debugging-port=0",
  `--user-data-dir=${dir}`, `${server.http}/bench/page.html?${qs}`,
], { stdio: "ignore", detached: true });
try {
  const portFile = join(dir, "DevToolsActivePort");
  await until(() => existsSync(portFile) && readFileSync(portFile, "utf8").includes("\n"), "the DevTools port", 20_000);
  const [port, path] = readFileSync(portFile, "utf8").trim().split("\n");
  const c = cdp(`ws://127.0.0.1:${port}${path}`);
  await c.ready;
  await until(async () => (await server.ctl(`/control/notes?run=p1`)).filter((n) => n.note.kind === "ready").length === TABS, `${TABS} tabs ready`, 30_000);
  const { targetInfos } = await c.send("Target.getTargets");
  const worker = targetInfos.find((t) => t.type === "shared_worker");
  const page = targetInfos.find((t) => t.type === "page" && t.url.includes(`tab=${TABS > 1 ? 1 : 0}`));
  const targets = [worker && ["worker", worker], page && [`tab ${TABS > 1 ? 1 : 0}`, page]].filter(Boolean);
  const sessions = [];
  for (const [label, t] of targets) {
    const { sessionId } = await c.send("Target.attachToTarget", { targetId: t.targetId, flatten: true });
    await c.send("Profiler.enable", {}, sessionId);
    await c.send("Profiler.setSamplingInterval", { interval: 100 }, sessionId);
    sessions.push([label, sessionId]);
  }
  for (const [, s] of sessions) await c.send("Profiler.start", {}, s);
  await server.ctl(`/control/ticker?channel=${channel}&ms=${Math.round(1000 / RATE)}&count=${FRAMES}&size=${SIZE}`);
  await server.ctl(`/control/probe?channel=${channel}&n=${Math.floor((seconds * 1000) / PROBE_MS)}&interval_ms=${PROBE_MS}`);
  await until(async () => (await server.ctl(`/control/notes?run=p1`)).filter((n) => n.note.kind === "done").length === TABS, "every frame in every tab", seconds * 1000 + 60_000);
  for (const [label, s] of sessions) {
    const { profile } = await c.send("Profiler.stop", {}, s);
    const { totalMs, top } = topFunctions(profile);
    console.log(`\n${mode}: ${label}, ${seconds} s at ${RATE} frames/s with a probe every ${PROBE_MS} ms, ${totalMs.toFixed(0)} ms sampled (idle included); top ${TOP} by self time:`);
    console.table(top);
  }
  c.close();
} finally {
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {}
  rmSync(dir, { recursive: true, force: true });
  await server.stop();
  await build(); // the shipped form again (no names)
}
