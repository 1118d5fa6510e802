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
