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
// TABMUX_ONLY=<substring>: run only the scenarios whose name contains it (the others are
// reported as NOT RUN with that reason).
const only = process.env.TABMUX_ONLY;

let browser;
before(async () => {
  browser = await launch(engine);
  console.log(`# engine: ${engine} (${browser.version})`);
});
after(async () => {
  await browser?.close();
});

for (const sc of scenarios) {
  const why = sc.notIn?.[engine] ?? (only && !sc.name.includes(only) ? `not selected by TABMUX_ONLY=${only}` : null);
  if (why) {
    console.log(`NOT RUN in ${engine}: ${sc.name}: ${why}`);
    test(`${engine}: ${sc.name}`, { skip: `NOT RUN in ${engine}: ${why}` }, () => {});
    continue;
  }
  test(`${engine}: ${sc.name}`, { timeout: 90_000 }, async () => {
    const server = await startServer(sc.server);
    const x = kit(engine, browser, server);
    try {
      await sc.run(x);
    } finally {
      await x.cleanup();
      await server.stop();
    }
  });
}
