// Security, end to end: a page served over https that asks for ws:// gets a clear error
// (loopback exempt, exactly as the browser's WebSocket constructor decides); the token never reaches
// status, stats, errors, the console or the demo page, even when the server echoes it in a
// close reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { withServerAndBrowser, openTab, until, root } from "./helpers.mjs";

let server, browser;
// The harness and the package as usual, and the built demo at "/" (its own worker copy is
// byte for byte the one in dist/worker, which is served first).
const statics = [join(root, "tests/e2e/pages"), join(root, "dist/worker"), root, join(root, "www/dist")];
// https://tabmux.test (below) stands for a deployment whose pages are served by this server:
// the dev server answers only its own origin and those named with --allow-origin.
withServerAndBrowser((s, b) => ([server, browser] = [s, b]), { statics, extra: ["--allow-origin", "https://tabmux.test"] });

/** A context where https://tabmux.test/ serves what the dev server serves: a secure origin. */
async function httpsContext() {
  const context = await browser.newContext();
  await context.route("https://tabmux.test/**", async (route) => {
    const { pathname, search } = new URL(route.request().url());
    route.fulfill({ response: await route.fetch({ url: `${server.http}${pathname}${search}` }) });
  });
  const page = await context.newPage();
  await page.goto("https://tabmux.test/harness.html");
  await page.waitForFunction(() => document.title === "ready");
  return { context, page };
}

test("an https page asking for ws:// gets invalid-options naming the fix (its query left out); loopback is exempt, as in the browser's own constructor", async () => {
  const { context, page } = await httpsContext();
  assert.deepEqual(await page.evaluate(() => [location.protocol, isSecureContext]), ["https:", true]);
  assert.deepEqual(await page.evaluate((o) => T.connectError(o), { url: "ws://example.invalid/ws?room=1" }), {
    code: "invalid-options",
    message:
      "tabmux: invalid options: url is ws:// but this page is served over https: the browser blocks an insecure WebSocket from a secure page (mixed content); use wss://example.invalid/ws?***",
  });
  // The rule is the browser's: its own constructor refuses the remote host and lets loopback through.
  const browserSays = await page.evaluate((local) =>
    ["ws://example.invalid/ws", local].map((u) => {
      try {
        new WebSocket(u).close();
        return "allowed";
      } catch (e) {
        return e.name;
      }
    }), server.ws("/ws/https"));
  assert.deepEqual(browserSays, ["SecurityError", "allowed"]);
  // (That loopback socket would then meet Chromium's separate Local Network Access check,
  // which a public page cannot pass without a permission: a failed connect, retried.)
  await context.close();
});

test("the token never appears in status, stats, errors, the console or the demo page, even in a close reason", async () => {
  const secret = "s3cret tok/én"; // percent-encoded in the URL: both forms must stay hidden
  const forms = [secret, encodeURIComponent(secret)];
  await server.ctl("/control/reset");
  const context = await browser.newContext();
  const console_ = [];
  // The demo and two harness tabs on the demo's endpoint, with the demo's options.
  const demo = await context.newPage();
  await demo.goto(`${server.http}/`);
  await until(async () => (await demo.locator("[data-testid=state]").innerText()) === "open", "the demo shows open");
  const pages = [await openTab(context, server), await openTab(context, server)];
  for (const p of [demo, ...pages]) p.on("console", (m) => console_.push(m.text()));
  const demoOptions = {
    url: server.ws("/ws"),
    heartbeat: { intervalMs: 5000, timeoutMs: 3000 },
    topics: { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' },
    replay: { frames: 20 },
  };
  for (const p of pages) await p.evaluate((o) => T.connect(o), demoOptions);
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open" && T.state(0).tabs === 3), "open, 3 tabs");
  await pages[0].evaluate((t) => T.clients[0].c.setToken(t), secret);
  const accepts = async () => (await server.ctl("/control/stats")).accepts.filter((a) => !a.refused);
  // The server does get the token (so there is something to leak)…
  await until(async () => (await accepts()).length === 2, "the reconnect with the token");
  assert.equal((await accepts())[1].query, `token=${encodeURIComponent(secret)}`);
  // …and echoes it back in a close reason, as careless servers do.
  await server.ctl(`/control/close?code=4000&reason=${encodeURIComponent(`bad token ${secret}`)}`);
  await until(async () => (await accepts()).length === 3, "the reconnect after the close");
  for (const p of pages) await until(() => p.evaluate(() => T.state(0)?.state === "open"), "open again");
  await until(async () => (await demo.locator("[data-testid=state]").innerText()) === "open", "the demo open again");
  // An invalid subscribe puts an error on the record too.
  for (const p of pages) await p.evaluate(() => { try { T.clients[0].c.subscribe("", () => {}); } catch (e) { T.clients[0].errors.push({ code: e.code, message: e.message }); } });
  for (const p of pages) {
    const seen = await p.evaluate(async () => ({
      statuses: T.clients[0].statuses,
      stats: await T.clients[0].c.stats(),
      errors: T.clients[0].errors,
      html: document.documentElement.outerHTML,
    }));
    assert.ok(seen.statuses.some((s) => s.lastClose?.code === 4000 && s.lastClose.reason === "bad token ***"), "the reason arrived, redacted");
    assert.deepEqual(seen.errors.map((e) => e.code), ["topic"]);
    const all = JSON.stringify(seen);
    for (const f of forms) assert.ok(!all.includes(f), `${JSON.stringify(f)} leaked: ${all}`);
  }
  // The demo renders the close when its status arrives (an "open" read before it does not
  // mean it has).
  const demoText = async () => (await demo.content()) + (await demo.locator("body").innerText());
  await until(async () => (await demoText()).includes("4000"), "the demo shows the close");
  const page = await demoText();
  for (const f of forms) assert.ok(!page.includes(f) && !console_.join("\n").includes(f), `${JSON.stringify(f)} leaked to the demo or a console`);
  await context.close();
});

test("credentials the page wrote in the URL (?access_token=…, ?sig=…) are *** in the debug log, statuses, errors and stats", async () => {
  const secrets = { access_token: "Zq7-access-9xK2m", sig: "s1gn4ture-abc.def" };
  const url = server.ws(`/ws/creds?room=1&access_token=${secrets.access_token}&sig=${secrets.sig}`);
  const context = await browser.newContext();
  const page = await openTab(context, server);
  const console_ = [];
  page.on("console", (m) => console_.push(m.text()));
  await page.evaluate((url) => T.connect({ url, heartbeat: false, debug: true, backoff: { initialMs: 50 } }), url);
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open");
  // The server does get them; then it echoes one in a close reason.
  assert.equal((await server.ctl("/control/stats")).accepts.filter((a) => a.channel === "creds")[0].query, `room=1&access_token=${secrets.access_token}&sig=${secrets.sig}`);
  await server.ctl(`/control/close?channel=creds&code=4000&reason=${encodeURIComponent(`no access for ${secrets.access_token}`)}`);
  await until(() => page.evaluate(() => T.clients[0].statuses.some((s) => s.lastClose?.code === 4000)), "the close");
  await until(() => page.evaluate(() => T.state(0)?.state === "open"), "open again");
  const seen = await page.evaluate(async () => ({ statuses: T.clients[0].statuses, stats: await T.clients[0].c.stats(), errors: T.clients[0].errors }));
  assert.ok(seen.statuses.some((s) => s.lastClose?.reason === "no access for ***"), JSON.stringify(seen.statuses.map((s) => s.lastClose)));
  const connect = console_.find((l) => l.includes("connect") && l.includes("/ws/creds"));
  assert.ok(connect?.includes("/ws/creds?room=1&access_token=***&sig=***"), `the connect log: ${connect}`);
  const all = JSON.stringify(seen) + console_.join("\n");
  for (const s of Object.values(secrets)) assert.ok(!all.includes(s), `${s} leaked: ${all}`);
  await context.close();
});

test("the dev server answers no other origin: a page of another origin can neither read /token nor open a WebSocket", async () => {
  // http://localhost:<port> is another origin than the server's own http://127.0.0.1:<port>.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://localhost:${server.port}/control/slow-page?ms=0`);
  await server.ctl("/control/token?value=dev-token-1234");
  const got = await page.evaluate(async (port) => {
    const fetched = await fetch(`http://127.0.0.1:${port}/token`).then((r) => `read ${r.status}`, (e) => e.name);
    const ws = await new Promise((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}/ws/foreign`);
      s.onopen = () => resolve("open");
      s.onclose = (e) => resolve(`close ${e.code}`);
    });
    return { origin: location.origin, fetched, ws };
  }, server.port);
  assert.deepEqual(got, { origin: `http://localhost:${server.port}`, fetched: "TypeError", ws: "close 1006" });
  const stats = await server.ctl("/control/stats");
  assert.equal(stats.accepts.filter((a) => a.channel === "foreign").length, 0, "no socket accepted");
  // Its own origin reads it (the harness page is served from http://127.0.0.1:<port>).
  const own = await openTab(context, server);
  assert.equal(await own.evaluate(() => fetch("/token").then((r) => r.text())), "dev-token-1234");
  await context.close();
});
