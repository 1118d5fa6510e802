// `npm run soak`: a real browser for SOAK_MINUTES (default 10): 4 tabs that stay, plus a tab
// opened and closed every 3 s, with frames flowing (dedup, sequence and topics on) and the
// server dropping every socket each minute. Samples the worker's wasm memory and the tab
// count every 30 s and reports growth after a 2-minute warm-up. Bounded; stops itself.
//
// Checked: the worker's wasm memory is the same at every sample after the warm-up (at least
// two such samples), and the steady tabs are counted as 4 at the end. The samples and the
// verdict go to SOAK_OUT (default tests/soak/results.json) as JSON; the exit code is 1 if a
// check failed. A short run to try it: SOAK_MINUTES=1 SOAK_WARMUP_MINUTES=0.25
// SOAK_SAMPLE_SECONDS=10 (SOAK_DROP_SECONDS, default 60, is how often every socket is dropped).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, launchBrowser, openTab, until, sleep, root, pageErrorsSoFar } from "../e2e/helpers.mjs";

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const warmupMinutes = Number(process.env.SOAK_WARMUP_MINUTES ?? 2);
const sampleMs = 1000 * Number(process.env.SOAK_SAMPLE_SECONDS ?? 30);
const dropMs = 1000 * Number(process.env.SOAK_DROP_SECONDS ?? 60);
const out = process.env.SOAK_OUT ?? join(root, "tests", "soak", "results.json");
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
const samples = [];
const failures = [];
let opened = 0;
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
  let nextSample = Date.now(), nextDrop = Date.now() + dropMs;
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
      nextDrop += dropMs;
      await server.ctl("/control/close?channel=soak&code=1012");
    }
    if (Date.now() >= nextSample) {
      nextSample += sampleMs;
      const st = await steady[0].evaluate(() => T.clients[0].c.stats());
      samples.push({ min: ((Date.now() - (end - minutes * 60_000)) / 60_000).toFixed(1), memoryBytes: st.memoryBytes, tabs: st.tabs, framesIn: st.framesIn, gaps: st.gaps, duplicates: st.duplicates, replayFrames: st.replayFrames, topics: st.topics });
      console.log(`# ${JSON.stringify(samples.at(-1))}`);
    }
  }
  const warm = samples.filter((s) => Number(s.min) >= warmupMinutes);
  const grew = warm.some((s) => s.memoryBytes !== warm[0].memoryBytes);
  console.log(`# soak: ${minutes} min, ${opened} tabs opened and closed; worker memory after warm-up ${warm[0]?.memoryBytes} → ${warm.at(-1)?.memoryBytes} bytes (${grew ? "GREW" : "flat"}); steady tabs counted at the end: ${samples.at(-1)?.tabs}`);
  if (warm.length < 2) failures.push(`${warm.length} memory sample(s) after the warm-up: too few to judge (run longer or sample more often)`);
  if (grew) failures.push(`the worker's wasm memory changed after the warm-up: ${warm.map((s) => s.memoryBytes).join(" ")}`);
  if (samples.at(-1)?.tabs !== 4) failures.push(`the steady tabs were counted as ${samples.at(-1)?.tabs} at the end, not 4`);
  await context.close();
} catch (e) {
  failures.push(`the run stopped: ${e.message}`);
} finally {
  await browser.close();
  await server.stop();
}
for (const e of pageErrorsSoFar()) failures.push(`uncaught error in a page: ${e}`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), minutes, warmupMinutes, sampleSeconds: sampleMs / 1000, dropSeconds: dropMs / 1000, tabsOpenedAndClosed: opened, samples, failures, passed: failures.length === 0 }, null, 2) + "\n");
console.log(`# soak: results in ${out}`);
for (const f of failures) console.error(`FAILED: ${f}`);
process.exit(failures.length ? 1 : 0);
