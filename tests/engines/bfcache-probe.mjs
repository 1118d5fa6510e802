// Not part of the suite: what happens when an engine restores a tabmux page from the
// back/forward cache. Opens two harness tabs on one endpoint (mode from MODE, default auto),
// navigates the first to another page and back, and prints whether pageshow said `persisted`,
// the restored page's client status, what a send from it does, and the tab count the other
// tab sees. One run in Firefox 153 ESR (shared mode): not restored; the back navigation loaded
// a fresh page (pageshow persisted false, no client), the other tab counted 1 tab meanwhile. Run: TABMUX_ENGINE=firefox node tests/engines/bfcache-probe.mjs
import { launch } from "./adapter.mjs";
import { kit } from "./scenarios.mjs";
import { startServer, sleep } from "../e2e/helpers.mjs";

const b = await launch(process.env.TABMUX_ENGINE ?? "firefox");
const server = await startServer();
const x = kit(b.name, b, server);
try {
  const mode = process.env.MODE ?? "auto";
  const { tabs } = await x.tabs(2, { url: server.ws("/ws/bf"), heartbeat: false, mode });
  const [a, other] = tabs;
  await a.eval(() => (window.MARK = "still here"));
  await a.goto(`${server.http}/harness.html?elsewhere`);
  await sleep(500);
  const away = { otherTabs: (await x.state(other)).tabs, serverSockets: (await x.stats()).byChannel.bf ?? 0 };
  await a.back();
  await sleep(1000);
  const back = await a.eval(async () => ({
    mark: globalThis.MARK ?? null,
    pageshowPersisted: SHOWN,
    clients: globalThis.T?.clients.length ?? null,
    state: globalThis.T?.clients[0] ? T.state(0)?.state : null,
    send: globalThis.T?.clients[0] ? await T.clients[0].c.send("after restore").then(() => "sent", (e) => `${e.code}: ${e.message}`) : null,
  }));
  await sleep(500);
  console.log(JSON.stringify({ engine: b.name, version: b.version, mode, away, back, otherTabsAfter: (await x.state(other)).tabs, serverSockets: (await x.stats()).byChannel.bf ?? 0, received: (await x.received("bf")) }, null, 1));
} finally {
  await x.cleanup();
  await server.stop();
  await b.close();
}
