// The example is safe to copy: it does not start on the public SECRET_KEY, nginx's access log
// has no query string (where the token travels), and a signed-in user reads only the streams
// that are theirs or public (streams.readable).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withStack, feedOptions, openTabs } from "./tabs.mjs";
import { example, until } from "./stack.mjs";

let stack, browser;
withStack((s, b) => ([stack, browser] = [s, b]));

/** Runs the example's Python with `args` and `env` over this process's environment minus the
 * Django key and DEBUG; returns `{ code, stderr }` once it exits (killed after 30 s). */
function python(args, env) {
  const base = { ...process.env };
  delete base.DJANGO_SECRET_KEY;
  delete base.DJANGO_DEBUG;
  return new Promise((resolve) => {
    const p = spawn(join(example, ".venv", "bin", "python"), args, { cwd: example, env: { ...base, ...env }, timeout: 30_000 });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

test("outside DEBUG a node refuses to start without a real DJANGO_SECRET_KEY, and says which variable", { timeout: 60_000 }, async () => {
  const daphne = ["-m", "daphne", "-b", "127.0.0.1", "-p", "0", "feedsite.asgi:application"];
  const message = "ImproperlyConfigured: DJANGO_SECRET_KEY is unset or the public development key";
  for (const env of [{}, { DJANGO_SECRET_KEY: "" }, { DJANGO_SECRET_KEY: "dev-only-not-secret" }]) {
    const r = await python(daphne, env);
    assert.equal(r.code, 1, `daphne with ${JSON.stringify(env)} exits 1 (signal ${r.signal})`);
    assert.ok(r.stderr.includes(message), `daphne with ${JSON.stringify(env)}: ${r.stderr.slice(-400)}`);
  }
  // A local run says so: DEBUG accepts the public key.
  const check = ["manage.py", "check"];
  assert.deepEqual(await python(check, { DJANGO_DEBUG: "1" }), { code: 0, signal: null, stderr: "" });
  assert.deepEqual(await python(check, { DJANGO_SECRET_KEY: "a-real-secret-from-the-environment" }), { code: 0, signal: null, stderr: "" });
});

test("nginx's access log has each request's path, never its query string (where the token is)", { timeout: 30_000 }, async () => {
  const { context, pages } = await openTabs(stack, browser, 1, feedOptions(stack, "logged"));
  const page = pages[0];
  const token = await page.evaluate(() => P.token());
  const url = (t) => `ws://127.0.0.1:${stack.nginxPort}/ws/logged?token=${encodeURIComponent(t)}&since=0`;
  assert.deepEqual(await page.evaluate(([u]) => P.raw(u, ['{"type":"ping"}'], 1), [url(token)]), { got: ['{"type":"pong"}'], open: true, code: null });
  assert.deepEqual(await page.evaluate(([u]) => P.raw(u, [], 1), [url("forged-SECRET-1")]), { got: [], open: false, code: 4401 });
  assert.equal((await fetch(`${stack.http}/token?token=SECRET-2`)).status, 401); // no session cookie
  await context.close(); // tabmux's own socket (its token in the URL) ends, and is logged
  const log = () => readFileSync(join(stack.dir, "access.log"), "utf8");
  const lines = () => log().trim().split("\n");
  await until(() => lines().filter((l) => l.includes("GET /ws/logged") && l.includes(" 101 ")).length === 3, "3 WebSocket lines in access.log");
  assert.equal(lines().filter((l) => l.includes("GET /token") && l.includes(" 401 ")).length, 1);
  const secrets = { token, encoded: encodeURIComponent(token), forged: "SECRET-1", http: "SECRET-2", param: "token=", since: "since=" };
  for (const [name, secret] of Object.entries(secrets)) assert.ok(!log().includes(secret), `access.log contains the ${name} value`);
  console.log(`# access.log: ${lines().length} lines, 3 WebSocket upgrades and 1 /token with ?token=, none with a query string`);
});

/** A new browser context signed in as `user`, and its first tab. */
async function signedIn(user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.http}/index.html`);
  await page.waitForFunction(() => document.title === "ready", null, { timeout: 10_000 });
  await page.evaluate((u) => P.login(u), user);
  return { context, page };
}

async function newTab(context) {
  const page = await context.newPage();
  await page.goto(`${stack.http}/index.html`);
  await page.waitForFunction(() => document.title === "ready", null, { timeout: 10_000 });
  return page;
}

test("user.<u> streams are private: bob cannot read alice's (closed with 1008, 0 frames, no replay) while alice gets every frame", { timeout: 60_000 }, async () => {
  const forbidden = async () => (await stack.stats(stack.nodes.a)).forbidden + (await stack.stats(stack.nodes.b)).forbidden;
  const { context: aliceContext, pages: [alice] } = await openTabs(stack, browser, 1, feedOptions(stack, "user.alice"), { user: "alice" });
  const { context: bobContext, page: bobOnAlice } = await signedIn("bob");
  const bobOwn = await newTab(bobContext);
  await bobOwn.evaluate((o) => P.connect(o), feedOptions(stack, "user.bob"));
  await bobOnAlice.evaluate((o) => P.connect(o), feedOptions(stack, "user.alice"));
  await until(() => bobOwn.evaluate(() => P.state() === "open"), "bob's own stream open");
  // 1008 is fatal for tabmux: closed, no retry.
  await until(() => bobOnAlice.evaluate(() => P.state() === "closed"), "bob's tab on user.alice closed").catch(async (e) => {
    throw new Error(`${e.message}\n${JSON.stringify(await bobOnAlice.evaluate(() => ({ statuses: P.statuses.slice(-6), errors: P.errors, other: P.other })))}\n${JSON.stringify([await stack.stats(stack.nodes.a), await stack.stats(stack.nodes.b)])}`);
  });
  assert.equal(await forbidden(), 1, "one handshake refused, none retried");

  const a = await stack.publish(stack.nodes.a, "user.alice", Array.from({ length: 100 }, (_, i) => ({ for: "alice", i })));
  const b = await stack.publish(stack.nodes.b, "user.bob", Array.from({ length: 50 }, (_, i) => ({ for: "bob", i })));
  const range = ({ first, last }) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
  await until(() => alice.evaluate(() => P.seqs.length === 100), "alice's 100 frames");
  await until(() => bobOwn.evaluate(() => P.seqs.length === 50), "bob's 50 frames");
  assert.deepEqual(await alice.evaluate(() => P.seqs), range(a));
  assert.deepEqual(await bobOwn.evaluate(() => P.seqs), range(b));
  const refused = await bobOnAlice.evaluate(() => ({ seqs: P.seqs, other: P.other, status: P.statuses.at(-1) }));
  assert.deepEqual(refused.seqs, []);
  assert.deepEqual(refused.other, []);
  assert.equal(refused.status.state, "closed");
  assert.deepEqual(refused.status.lastClose, { code: 1008, reason: "not your stream" });
  assert.equal(await forbidden(), 1, "still one: tabmux did not retry");

  // With bob's valid token, by hand and asking for a replay of everything: refused before a frame.
  const bobToken = await bobOnAlice.evaluate(() => P.token());
  const url = (stream, t) => `ws://127.0.0.1:${stack.nginxPort}/ws/${stream}?token=${encodeURIComponent(t)}&since=0`;
  assert.deepEqual(await bobOnAlice.evaluate(([u]) => P.raw(u, [], 1), [url("user.alice", bobToken)]), { got: [], open: false, code: 1008 });
  assert.equal(await forbidden(), 2);
  // Alice's own token replays her stream.
  const aliceToken = await alice.evaluate(() => P.token());
  const replay = await alice.evaluate(([u]) => P.raw(u, [], 100), [url("user.alice", aliceToken)]);
  assert.deepEqual(replay.got.map((f) => JSON.parse(f).seq), range(a));
  console.log(`# private streams: alice got ${a.last - a.first + 1} of ${a.last - a.first + 1} frames of user.alice, bob's tab on it 0 (state closed, lastClose 1008, 1 handshake, not retried), bob got his 50 of user.bob; ${await forbidden()} handshakes refused`);
  await aliceContext.close();
  await bobContext.close();
});
