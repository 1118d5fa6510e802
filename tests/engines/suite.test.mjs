// The engine suite: every scenario of scenarios.mjs in one engine, named by TABMUX_ENGINE
// (chromium, firefox or webkit; scripts/engines.mjs runs firefox and webkit). A scenario that
// cannot run in this engine is printed as `NOT RUN in <engine>: <scenario>: <why>` and
// reported as skipped with that reason, never silently left out.
import { test, before, after } from "node:test";
import { launch, ENGINES } from "./adapter.mjs";
import { scenarios, kit } from "./scenarios.mjs";
import { startServer } from "../e2e/helpers.mjs";

const engine = process.env.TABMUX_ENGINE ?? "chromium";
if (!ENGINES.includes(engine)) throw new Error(`TABMUX_ENGINE=${engine}: one of ${ENGINES.join(", ")}`);
// TABMUX_ONLY=<a>|<b>: run only the scenarios whose name contains one of these (the others are
// reported as NOT RUN with that reason).
const only = process.env.TABMUX_ONLY;

// WebKit gets a new browser (a new MiniBrowser session) for every scenario: in one long
// session, closing a tab sometimes ended the SharedWorker of the next scenario's origin (see
// tests/engines/webkit-close-repro.mjs), which no scenario here is about.
const perScenario = engine === "webkit";
let browser;
before(async () => {
  browser = await launch(engine);
  console.log(`# engine: ${engine} (${browser.version})`);
  if (perScenario) {
    await browser.close();
    browser = null;
  }
});
after(async () => {
  await browser?.close();
});

for (const sc of scenarios) {
  const why = sc.notIn?.[engine] ?? (only && !only.split("|").some((o) => sc.name.includes(o)) ? `not selected by TABMUX_ONLY=${only}` : null);
  if (why) {
    console.log(`NOT RUN in ${engine}: ${sc.name}: ${why}`);
    test(`${engine}: ${sc.name}`, { skip: `NOT RUN in ${engine}: ${why}` }, () => {});
    continue;
  }
  test(`${engine}: ${sc.name}`, { timeout: 90_000 }, async () => {
    const server = await startServer(sc.server);
    const own = perScenario ? await launch(engine).catch(async (e) => { await server.stop(); throw e; }) : null;
    const x = kit(engine, own ?? browser, server);
    try {
      await sc.run(x);
    } finally {
      await x.cleanup();
      await own?.close();
      await server.stop();
    }
  });
}
