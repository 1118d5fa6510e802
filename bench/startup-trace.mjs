// `npm run bench:startup [reps]`: where a cold start's milliseconds go, inside the worker as
// well as in the page. The first tab (its own browser each run) connects in shared mode, or to the
// bare-JS worker, then a second tab joins the running worker; once both have a frame, the
// script attaches over raw CDP (after the fact: nothing is traced while they start) and reads the performance timelines of the page and
// of the SharedWorker (marks and resource timings), aligned on their time origins. Prints the
// median of each step in ms since that tab called connect() (or `new SharedWorker`).
// Talks only to its own server on 127.0.0.1; every run is bounded.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setup, median } from "./setup.mjs";
import { cdp } from "./cdp.mjs";

const REPS = Number(process.argv[2] ?? 5);

const { helpers: { until }, chromium, server } = await setup();

// Everything a timeline says about start-up, with absolute times (epoch ms).
const TIMELINE = `JSON.stringify({
  origin: performance.timeOrigin, t0: globalThis.benchT0 ?? null,
  entries: performance.getEntries().map((e) => ({ name: e.name.split("/").pop(), type: e.entryType, start: e.startTime,
    responseStart: e.responseStart ?? null, end: e.responseEnd ?? e.startTime + e.duration })),
})`;

let seq = 0;
async function trace(mode) {
  const run = `s${++seq}`;
  const channel = `start${seq}`;
  await server.ctl(`/control/ticker?channel=${channel}&ms=2&count=15000`);
  const qs = new URLSearchParams({ run, tab: "0", url: server.ws(`/ws/${channel}`), mode, tabs: "2", frames: "1000000", startup: "1" });
  const dir = mkdtempSync(join(tmpdir(), "tabmux-startup-"));
  const proc = spawn(chromium, [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-popup-blocking",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows", "--remote-debugging-port=0",
    `--user-data-dir=${dir}`, `${server.http}/bench/page.html?${qs}`,
  ], { stdio: "ignore", detached: true });
  try {
    const portFile = join(dir, "DevToolsActivePort");
    await until(() => existsSync(portFile) && readFileSync(portFile, "utf8").includes("\n"), "the DevTools port", 20_000);
    let notes = [];
    await until(async () => (notes = (await server.ctl(`/control/notes?run=${run}`)).filter((n) => n.note.kind === "first").map((n) => n.note)).length === 2, "both tabs' first frames", 30_000);
    const [port, path] = readFileSync(portFile, "utf8").trim().split("\n");
    const c = cdp(`ws://127.0.0.1:${port}${path}`);
    await c.ready;
    const { targetInfos } = await c.send("Target.getTargets");
    const read = async (t) => {
      const { sessionId } = await c.send("Target.attachToTarget", { targetId: t.targetId, flatten: true });
      const { result } = await c.send("Runtime.evaluate", { expression: TIMELINE, returnByValue: true }, sessionId);
      return JSON.parse(result.value);
    };
    const pages = [];
    for (const tab of [0, 1]) pages.push(await read(targetInfos.find((t) => t.type === "page" && t.url.includes(`tab=${tab}`))));
    const worker = await read(targetInfos.find((t) => t.type === "shared_worker"));
    c.close();
    const steps = {};
    for (const tab of [0, 1]) {
      const first = notes.find((n) => n.tab === tab);
      const who = tab === 0 ? "first tab" : "joining tab";
      // ms since this tab's connect(): the page's marks are relative to its script start (t0).
      const rel = (ms) => +(ms - first.connectAt).toFixed(1);
      if (tab === 0) {
        const connect = pages[0].origin + pages[0].t0 + first.connectAt;
        const at = (ms) => +(worker.origin + ms - connect).toFixed(1);
        steps["first tab: worker created (its time origin)"] = +(worker.origin - connect).toFixed(1);
        for (const e of worker.entries) {
          if (e.type === "mark") steps[`first tab: worker ${e.name}`] = at(e.start);
          if (e.type === "resource") {
            steps[`first tab: worker fetch of ${e.name} starts`] = at(e.start);
            steps[`first tab: worker fetch of ${e.name} ends`] = at(e.end);
          }
        }
      }
      for (const [mark, label] of [["wasm", "client wasm ready"], ["welcome", "welcome (connect() resolves)"], ["open", "status open"]]) {
        if (first.marks[mark] != null) steps[`${who}: ${label}`] = rel(first.marks[mark]);
      }
      steps[`${who}: first frame`] = rel(first.ms);
    }
    return steps;
  } finally {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const runs = { shared: [], bare: [] };
  for (let rep = 0; rep < REPS; rep++) for (const mode of rep % 2 ? ["bare", "shared"] : ["shared", "bare"]) runs[mode].push(await trace(mode));
  for (const [mode, list] of Object.entries(runs)) {
    const names = [...new Set(list.flatMap(Object.keys))];
    const rows = names.map((step) => ({ step, "median ms since connect()": median(list.map((s) => s[step]).filter((v) => v != null)) }));
    // Each tab's steps together, in time order.
    const tab = (r) => (r.step.startsWith("first") ? 0 : 1);
    rows.sort((a, b) => tab(a) - tab(b) || a["median ms since connect()"] - b["median ms since connect()"]);
    console.log(`\n${mode}: ${list.length} cold starts, then a tab joining`);
    console.table(rows);
  }
} finally {
  await server.stop();
}
