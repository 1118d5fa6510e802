// Not part of the suite: a reproduction of a WebKitGTK behaviour (2.50.6). In one MiniBrowser
// session, after a first origin's three tabs were closed, a second origin's three tabs connect;
// closing the third one then often ends that origin's SharedWorker: the server sees its socket
// close with 1006, the other tabs' Web Lock on the worker fires ("the worker stopped") and
// tabmux starts a replacement worker and socket ~100 ms later; frames the server sent in
// between are lost. Run: TABMUX_ENGINE=webkit NOPRE=1 node tests/engines/webkit-close-repro.mjs
import { launch } from "./adapter.mjs";
import { kit } from "./scenarios.mjs";
import { startServer, sleep } from "../e2e/helpers.mjs";
const b = await launch(process.env.TABMUX_ENGINE ?? "webkit");
const s0 = await startServer();
const x0 = kit(b.name, b, s0);
const p0 = await x0.tabs(3, { url: s0.ws(`/ws/x`), heartbeat: false });
if (process.env.PHASE0_SEND) await p0.tabs[1].eval(() => T.clients[0].c.send("x"));
await x0.cleanup(); await s0.stop();
const server = await startServer();
const x = kit(b.name, b, server);
try {
  const ch = "leave";
  const { tabs } = await x.tabs(3, { url: server.ws(`/ws/${ch}`), heartbeat: false });
  await x.allTabs(tabs, 3);
  if (!process.env.NOPRE) await server.ctl(`/control/broadcast?channel=${ch}&n=2`);
  await sleep(500);
  for (const t of tabs) console.log("before", (await x.messages(t)).length);
  await tabs[2].close();
  await x.allTabs(tabs.slice(0, 2), 2);
  console.log("stats", JSON.stringify((await x.stats()).byChannel));
  await server.ctl(`/control/broadcast?channel=${ch}&n=5`);
  for (let i = 0; i < 2; i++) {
    await sleep(1000);
    for (const t of tabs.slice(0, 2)) console.log(i, (await x.messages(t)).length, JSON.stringify(await x.state(t)).slice(0, 200));
  }
  await tabs[0].eval(() => T.clients[0].c.send("after close"));
  await sleep(1000);
  console.log("received", JSON.stringify(await x.received(ch)), JSON.stringify((await x.stats()).closes));
  console.log(JSON.stringify(await tabs[0].console()));
  console.log("accepts", JSON.stringify((await x.stats()).accepts));
  console.log("tab0 stats", JSON.stringify(await tabs[0].eval(() => T.clients[0].c.stats())));
  console.log("tab0 statuses", JSON.stringify(await tabs[0].eval(() => T.clients[0].statuses.map(s => [s.state, s.tabs, s.lastError]))));
  console.log("tab0 errors", JSON.stringify(await tabs[0].eval(() => T.clients[0].errors)));
} finally {
  await x.cleanup(); await server.stop(); await b.close();
}
