// Releases never share a worker. Two copies of the package are served in turn at one origin:
// release A (this build) and release B (the same build with a custom section added to the
// worker's wasm, then stamped by scripts/build.mjs's stamp(), so its build id differs as a
// real release's would). A symlink says which one the server serves; switching it is the deploy.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withServerAndBrowser, openTab, until, seqFrames, root } from "./helpers.mjs";
import { stamp } from "../../scripts/build.mjs";

const base = mkdtempSync(join(tmpdir(), "tabmux-release-"));
after(() => rmSync(base, { recursive: true, force: true }));

/** A release folder as a site serves it: the worker files at the root, the package below. */
function release(name, change) {
  const dir = join(base, name);
  cpSync(join(root, "dist/index.js"), join(dir, "dist/index.js"));
  for (const d of ["tab", "direct"]) cpSync(join(root, "dist", d), join(dir, "dist", d), { recursive: true });
  for (const f of readdirSync(join(root, "dist/worker"))) cpSync(join(root, "dist/worker", f), join(dir, f));
  change?.(dir);
  return { dir, id: readFileSync(join(dir, "dist/tab/build-id.js"), "utf8").match(/"([0-9a-f]+)"/)[1] };
}

/** A wasm custom section (id 0) named `name` holding `text`: changes the bytes, not the code. */
function customSection(name, text) {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from(text)]);
  assert.ok(body.length < 128);
  return Buffer.concat([Buffer.from([0, body.length]), body]);
}

const A = release("a");
const B = release("b", (dir) => {
  const wasm = join(dir, "tabmux_worker_bg.wasm");
  writeFileSync(wasm, Buffer.concat([readFileSync(wasm), customSection("tabmux-test", "release B")]));
  stamp({ workerDir: dir, tabDir: join(dir, "dist/tab"), shim: readFileSync(join(dir, "shared-websocket-worker.js"), "utf8") });
});
// C: release B's shim and pages over release A's worker glue and wasm, as a cache that kept
// the old glue and wasm under their fixed names serves them after the deploy.
const C = release("c", (dir) => {
  for (const f of ["shared-websocket-worker.js"]) cpSync(join(B.dir, f), join(dir, f));
  cpSync(join(B.dir, "dist"), join(dir, "dist"), { recursive: true });
});
const current = join(base, "current");
symlinkSync(A.dir, current);
/** The deploy: the served folder becomes `to`, in one rename. */
function deploy(to) {
  symlinkSync(to.dir, join(base, "next"));
  renameSync(join(base, "next"), current);
}

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]), { statics: [join(root, "tests/e2e/pages"), current] });

const sockets = async (ch) => (await server.ctl("/control/stats")).byChannel[ch] ?? 0;
const state = (p) => p.evaluate(() => T.state(0));

test("after a deploy a new tab starts the new release's worker; old tabs keep theirs until they close", async () => {
  assert.match(A.id, /^[0-9a-f]{16}$/);
  assert.match(B.id, /^[0-9a-f]{16}$/);
  assert.notEqual(A.id, B.id);
  const ch = "release";
  const options = { url: server.ws(`/ws/${ch}`), heartbeat: false };
  const context = await browser.newContext();
  const old = [await openTab(context, server), await openTab(context, server)];
  for (const p of old) assert.equal(await p.evaluate(() => BUILD), A.id);
  for (const p of old) await p.evaluate((o) => T.connect(o), options);
  for (const p of old) await until(async () => (await state(p))?.state === "open" && (await state(p)).tabs === 2, "release A: open, 2 tabs");
  assert.equal(await sockets(ch), 1);

  deploy(B);
  const fresh = await openTab(context, server);
  assert.equal(await fresh.evaluate(() => BUILD), B.id);
  assert.equal((await fresh.evaluate((o) => T.connect(o), options)).transport, "shared");
  // Its own worker (1 tab there), with its own socket: two sockets while both releases run.
  await until(async () => (await state(fresh))?.state === "open", "release B: open");
  assert.equal((await state(fresh)).tabs, 1);
  await until(async () => (await sockets(ch)) === 2, "two sockets");
  for (const p of old) assert.equal((await state(p)).tabs, 2);
  // A's worker fetched A's script before the deploy; B's worker fetched the new one.
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=3`);
  for (const p of [...old, fresh]) {
    await until(() => p.evaluate(() => T.clients[0].messages.length === 3), "3 frames in every tab");
    assert.deepEqual(await p.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 2, ch));
  }

  // A hello of release A to a worker started from release B's script (as when a page of A
  // starts a worker after the deploy) is refused, naming both builds. (Under A's own worker
  // name this would join the running worker of A, which the old tabs still hold.)
  const refused = await fresh.evaluate(async (a) => {
    const w = new SharedWorker("/shared-websocket-worker.js", { name: `tabmux-v1-${a}-started-after-the-deploy` });
    const reply = new Promise((r, reject) => {
      w.port.onmessage = (e) => r(e.data);
      setTimeout(() => reject(new Error("no reply from the worker in 10 s")), 10_000);
    });
    w.port.postMessage({ t: "hello", v: 1, build: a, tabId: "old-page", options: { url: "ws://127.0.0.1:9/ws" } });
    return reply;
  }, A.id);
  assert.equal(refused.code, "worker-failed");
  assert.equal(refused.message, `tabmux: this page is build ${A.id} but the worker script is build ${B.id}; a page and a worker of different releases do not share (reload the page for the new release)`);

  // The old tabs leave: A's worker closes its socket; B's tab keeps receiving.
  for (const p of old) await p.close();
  await until(async () => (await sockets(ch)) === 1, "one socket left");
  const next = await server.ctl(`/control/broadcast?channel=${ch}&n=1`);
  await until(() => fresh.evaluate(() => T.clients[0].messages.length === 4), "the frame after the old tabs left");
  assert.deepEqual((await fresh.evaluate(() => T.clients[0].messages)).at(-1), seqFrames(next.firstSeq, next.firstSeq, ch)[0]);
  await context.close();
});

test("a page of the old release that connects after the deploy (no old worker left) falls back to direct mode in auto, and is refused in shared", async () => {
  deploy(A);
  const ch = "release-late";
  const context = await browser.newContext();
  const late = await openTab(context, server);
  assert.equal(await late.evaluate(() => BUILD), A.id);
  deploy(B);
  // Its worker name is A's, no worker of A runs: the browser starts one from the script now
  // served, B's, which refuses A's hello.
  const why = `tabmux: this page is build ${A.id} but the worker script is build ${B.id}; a page and a worker of different releases do not share (reload the page for the new release)`;
  const err = await late.evaluate((o) => T.connectError(o), { url: server.ws(`/ws/${ch}`), mode: "shared" });
  assert.deepEqual(err, { code: "worker-failed", message: why });
  const info = await late.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false });
  assert.equal(info.transport, "direct");
  assert.deepEqual(await late.evaluate(() => T.clients[0].errors), [{ code: "worker-failed", message: why }]);
  await until(async () => (await state(late))?.state === "open", "open on the page's own socket");
  const { firstSeq } = await server.ctl(`/control/broadcast?channel=${ch}&n=2`);
  await until(() => late.evaluate(() => T.clients[0].messages.length === 2), "2 frames");
  assert.deepEqual(await late.evaluate(() => T.clients[0].messages), seqFrames(firstSeq, firstSeq + 1, ch));
  await context.close();
});

test("a new release's shim over a cached old glue and wasm: the worker's wasm knows its own release and refuses every hello; auto falls back to direct, shared rejects", async () => {
  assert.equal(C.id, B.id, "the pages and the shim say release B");
  const wasm = readFileSync(join(C.dir, "tabmux_worker_bg.wasm"));
  assert.ok(wasm.includes(Buffer.from(`tabmux-build-id:${A.id}`)), "the worker's wasm is release A's");
  deploy(C);
  const ch = "release-mixed";
  const context = await browser.newContext();
  const page = await openTab(context, server);
  assert.equal(await page.evaluate(() => BUILD), B.id);
  const why = `tabmux: the worker script is build ${B.id} but its wasm is build ${A.id} (a cached file of another release); reload the page`;
  const err = await page.evaluate((o) => T.connectError(o), { url: server.ws(`/ws/${ch}`), mode: "shared" });
  assert.deepEqual(err, { code: "worker-failed", message: why });
  const info = await page.evaluate((o) => T.connect(o), { url: server.ws(`/ws/${ch}`), heartbeat: false });
  assert.equal(info.transport, "direct");
  assert.deepEqual(await page.evaluate(() => T.clients[0].errors), [{ code: "worker-failed", message: why }]);
  await until(async () => (await state(page))?.state === "open", "open on the page's own socket");
  await context.close();
  deploy(A);
});
