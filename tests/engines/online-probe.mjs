// Not part of the suite: a measurement. Which engines tell a SharedWorker that the network went
// away and came back (`online`/`offline` events on its global, and `navigator.onLine`), beside a
// page and a dedicated worker of the same origin. The network change is a real one, seen by the
// whole browser: the script runs itself in a network namespace of its own (`unshare -n`, root)
// with one veth link and a default route, and takes the link down and up again.
//
//   node tests/engines/online-probe.mjs [chromium firefox webkit]
//
// Prints one JSON line per engine: for the page, the dedicated worker and the shared worker, the
// events each got ("offline@3012" = ms after the page loaded) and `navigator.onLine` before,
// while down and after. Then tabmux itself (the built worker in dist/worker, the dev server in
// the same namespace): two tabs on one socket, the link down, the server closing the socket,
// the link up: how long until the tabs' status says offline, whether any attempt is made while
// offline, and how long after the link comes back until they are open again. Firefox is
// launched with `network.manage-offline-status: true` (Firefox's own default; puppeteer turns
// it off). Results are in docs/guide/network.md.
import { spawnSync, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { launch, ENGINES } from "./adapter.mjs";
import { startServer } from "../e2e/helpers.mjs";

const engines = process.argv.slice(2).length ? process.argv.slice(2) : ENGINES;

if (!process.env.TABMUX_PROBE_NETNS) {
  const r = spawnSync("unshare", ["-n", process.execPath, fileURLToPath(import.meta.url), ...engines], {
    stdio: "inherit",
    env: { ...process.env, TABMUX_PROBE_NETNS: "1" },
  });
  process.exit(r.status ?? 1);
}

const ip = (...args) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "inherit"] });
ip("link", "set", "lo", "up");
ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
ip("addr", "add", "10.77.0.1/24", "dev", "v0");
const linkUp = () => {
  ip("link", "set", "v1", "up");
  ip("link", "set", "v0", "up");
  ip("route", "replace", "default", "via", "10.77.0.2", "dev", "v0");
};
const linkDown = () => ip("link", "set", "v0", "down");
linkUp();

// Each context keeps a list of what it saw; the shared worker answers its ports with its list.
const RECORDER = `const seen = { events: [], onLine: [] };
  const t0 = Date.now();
  const note = (e) => seen.events.push(e.type + "@" + (Date.now() - t0));
  self.addEventListener("online", note);
  self.addEventListener("offline", note);
  let last;
  setInterval(() => { if (navigator.onLine !== last) { last = navigator.onLine; seen.onLine.push(last + "@" + (Date.now() - t0)); } }, 50);`;
const files = {
  "/": `<!doctype html><title>loading</title><script>
    ${RECORDER}
    const shared = new SharedWorker("/shared.js", { name: "probe" });
    const dedicated = new Worker("/dedicated.js");
    const ask = (port) => new Promise((r) => { port.onmessage = (e) => r(e.data); port.postMessage("get"); });
    globalThis.probe = async () => ({ page: seen, dedicated: await ask(dedicated), shared: await ask(shared.port) });
    document.title = "ready";
  </script>`,
  "/shared.js": `${RECORDER}
    self.onconnect = (e) => { const p = e.ports[0]; p.onmessage = () => p.postMessage(seen); };`,
  "/dedicated.js": `${RECORDER}
    self.onmessage = () => self.postMessage(seen);`,
};
const server = createServer((req, res) => {
  const body = files[req.url];
  res.writeHead(body ? 200 : 404, { "content-type": req.url === "/" ? "text/html" : "text/javascript", "cache-control": "no-store" });
  res.end(body ?? "");
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** tabmux's own worker through a real network change: the times its tabs' status took. */
async function tabmuxThrough(b, dev) {
  const tabs = [await b.openTab(`${dev.http}/harness.html`), await b.openTab(`${dev.http}/harness.html`)];
  const url = dev.ws("/ws/probe");
  for (const t of tabs) await t.eval((url) => T.connect({ url, heartbeat: false, backoff: { initialMs: 500, jitter: 0 } }).then(() => true), url);
  const state = (t) => t.eval(() => ({ state: T.state(0)?.state, online: T.state(0)?.online }));
  const waitFor = async (what, f, ms = 20_000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (await f()) return Date.now() - t0;
      await sleep(50);
    }
    return `not in ${ms} ms`;
  };
  await waitFor("open", async () => (await state(tabs[1])).state === "open");
  linkDown();
  const offlineAfterMs = await waitFor("offline", async () => (await Promise.all(tabs.map(state))).every((s) => s.online === false));
  const accepts = async () => (await dev.ctl("/control/stats")).accepts.filter((a) => a.channel === "probe").length;
  await dev.ctl("/control/close?channel=probe&code=1012");
  await sleep(3000);
  const attemptsWhileOffline = (await accepts()) - 1;
  const whileDown = await state(tabs[0]);
  linkUp();
  const openAfterMs = await waitFor("open", async () => (await Promise.all(tabs.map(state))).every((s) => s.state === "open"));
  for (const t of tabs) await t.close();
  return { offlineAfterMs, whileDown, attemptsWhileOffline, openAfterMs };
}

const dev = await startServer();
for (const engine of engines) {
  const b = await launch(engine, { firefoxPrefs: { "network.manage-offline-status": true } });
  try {
    const tab = await b.openTab(url);
    await sleep(1500);
    linkDown();
    await sleep(4000);
    const during = await tab.eval(() => probe());
    linkUp();
    await sleep(Number(process.env.PROBE_UP_MS ?? 4000));
    const after = await tab.eval(() => probe());
    const sum = (ctx) => ({ events: after[ctx].events, onLine: after[ctx].onLine, offlineWhileDown: during[ctx].onLine.at(-1)?.startsWith("false") ?? false });
    console.log(JSON.stringify({ engine, version: b.version, page: sum("page"), dedicated: sum("dedicated"), shared: sum("shared") }));
    console.log(JSON.stringify({ engine, tabmux: await tabmuxThrough(b, dev) }));
  } finally {
    await b.close();
    linkUp();
  }
}
server.close();
await dev.stop();
