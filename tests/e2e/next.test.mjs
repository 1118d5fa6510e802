// A small Next.js App Router app (tests/apps/next: next, react and react-dom pinned in its own
// package.json and lockfile, installed here with npm ci; tabmux packed from this checkout and
// unpacked into its node_modules) with TabmuxProvider in the root layout (a server
// component) and the worker in public/ (tabmux copy-worker). Built and started as in
// production (`next build`, `next start`) and driven in Chromium: two tabs, one server
// socket, frames in both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { startServer, launchBrowser, until, seqFrames, root, deadline, freePort } from "./helpers.mjs";
import { installApp, sh } from "../apps/install.mjs";

const app = join(root, "tests", "apps", "next");
const nextBin = join(app, "node_modules", "next", "dist", "bin", "next");
const env = { NEXT_TELEMETRY_DISABLED: "1" };
let server, browser, next, nextUrl, html;

before(async () => {
  const times = installApp(app);
  sh(process.execPath, [join(app, "node_modules", "tabmux", "bin", "tabmux.js"), "copy-worker", join(app, "public")], { cwd: app });
  times.buildMs = sh(process.execPath, [nextBin, "build"], { cwd: app, minutes: 10, env }).ms;
  console.log(`next app: ${JSON.stringify(times)}`);
  // The pages come from Next's origin; their sockets go to the dev server, which is told it.
  const nextPort = await freePort();
  server = await startServer({ statics: [], extra: ["--allow-origin", `http://127.0.0.1:${nextPort}`] });
  // Its own process group, so stopping it stops whatever it started.
  next = spawn(process.execPath, [nextBin, "start", "-H", "127.0.0.1", "-p", String(nextPort)], {
    cwd: app,
    env: { ...process.env, ...env, TABMUX_WS: server.ws("/ws/next") },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  nextUrl = await deadline(new Promise((resolve, reject) => {
    createInterface({ input: next.stdout }).on("line", (line) => {
      const m = line.match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    next.once("exit", (code) => reject(new Error(`next start exited with ${code}`)));
  }), 60_000, "next start to listen");
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  if (next && next.exitCode === null) {
    const gone = new Promise((r) => next.once("exit", r));
    process.kill(-next.pid, "SIGTERM");
    await deadline(gone, 15_000, "next start to exit");
  }
  await server?.stop();
});

test("next build && next start: the server renders the page with the provider in the root layout", async () => {
  html = await (await fetch(`${nextUrl}/`)).text();
  // Server rendering ran the client components (no socket on the server: the state is "…").
  assert.match(html, /state <b data-testid="state">…<\/b>/);
  assert.equal((await server.ctl("/control/stats")).byChannel.next, undefined);
});

test("Next.js App Router: two tabs share one server socket; frames reach both", async () => {
  const context = await browser.newContext();
  const tabs = [];
  for (let i = 0; i < 2; i++) {
    const page = await context.newPage();
    await page.goto(`${nextUrl}/`);
    tabs.push(page);
  }
  for (const p of tabs) {
    await until(() => p.evaluate(() => window.APP?.status?.state === "open" && APP.status.tabs === 2), "open, 2 tabs", 20_000);
    assert.equal(await p.evaluate(() => APP.transport), "shared");
    assert.equal(await p.evaluate(() => APP.error), null);
  }
  assert.equal((await server.ctl("/control/stats")).byChannel.next, 1);
  const { firstSeq } = await server.ctl("/control/broadcast?channel=next&n=3");
  for (const p of tabs) {
    await until(() => p.evaluate(() => APP.messages.length === 3), "3 frames");
    assert.deepEqual(await p.evaluate(() => APP.messages), seqFrames(firstSeq, firstSeq + 2, "next"));
  }
  await context.close();
  await until(async () => !(await server.ctl("/control/stats")).byChannel.next, "the socket closed with the tabs");
});
