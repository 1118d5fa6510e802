// `npm run soak`: a real browser for SOAK_MINUTES (default 10): 4 tabs that stay, plus a tab
// opened and closed every 3 s, with frames flowing (dedup, sequence and topics on) and the
// server dropping every socket each minute. Samples the worker's wasm memory and the tab
// count every 30 s and reports growth after a 2-minute warm-up. Bounded; stops itself.
import { join } from "node:path";
import { startServer, launchBrowser, openTab, until, sleep, root } from "../e2e/helpers.mjs";

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const server = await startServer({ bin: join(root, "target", "release", "tabmux-devserver") });
const browser = await launchBrowser();
const options = {
  url: server.ws("/ws/soak"),
  dedup: { key: "/seq" },
  sequence: { key: "/seq" },
  topics: { key: "/topic", subscribe: '{"s":"{topic}"}', unsubscribe: '{"u":"{topic}"}' },
  replay: { frames: 50 },
  backoff: { initialMs: 200 },
};
try {
  const context = await browser.newContext();
  const steady = [];
  for (let i = 0; i < 4; i++) {
    const p = await openTab(context, server);
    await p.evaluate((o) => T.connect(o, { countOnly: true }), options);
    await p.evaluate(() => T.subscribe(0, "A", { countOnly: true }));
    steady.push(p);
  }
  await until(() => steady[0].evaluate(() => T.state(0)?.state === "open"), "open");
  const end = Date.now() + minutes * 60_000;
  const samples = [];
  let opened = 0, nextSample = Date.now(), nextDrop = Date.now() + 60_000;
  while (Date.now() < end) {
    await server.ctl("/control/broadcast?channel=soak&n=300&size=300&topic=A");
    await server.ctl("/control/broadcast?channel=soak&n=300&size=300");
    const p = await openTab(context, server);
    await p.evaluate((o) => T.connect(o, { countOnly: true }), options);
    await p.evaluate(() => T.subscribe(0, "B", { countOnly: true }));
    opened++;
    await sleep(1500);
    await p.close();
    await sleep(1500);
    if (Date.now() >= nextDrop) {
      nextDrop += 60_000;
      await server.ctl("/control/close?channel=soak&code=1012");
    }
    if (Date.now() >= nextSample) {
      nextSample += 30_000;
      const st = await steady[0].evaluate(() => T.clients[0].c.stats());
      samples.push({ min: ((Date.now() - (end - minutes * 60_000)) / 60_000).toFixed(1), memoryBytes: st.memoryBytes, tabs: st.tabs, framesIn: st.framesIn, gaps: st.gaps, duplicates: st.duplicates, replayFrames: st.replayFrames, topics: st.topics });
      console.log(`# ${JSON.stringify(samples.at(-1))}`);
    }
  }
  const warm = samples.filter((s) => Number(s.min) >= 2);
  const grew = warm.length && warm.at(-1).memoryBytes > warm[0].memoryBytes;
  console.log(`# soak: ${minutes} min, ${opened} tabs opened and closed; worker memory after warm-up ${warm[0]?.memoryBytes} → ${warm.at(-1)?.memoryBytes} bytes (${grew ? "GREW" : "flat"}); steady tabs counted at the end: ${samples.at(-1)?.tabs}`);
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
