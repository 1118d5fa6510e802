// The published package carries no test-only hooks. Packs this checkout (npm pack, as a
// release is made), unpacks the tarball and reads what would ship: the worker's wasm exports
// no clientCount/portCount and holds no panic-on-request code, its glue and shim name none of
// them. The same checks against the test worker (dist-test/worker, cargo feature
// `test-hooks`) find each hook, so the checks can see what they look for.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./helpers.mjs";

const base = mkdtempSync(join(tmpdir(), "tabmux-pack-"));
after(() => rmSync(base, { recursive: true, force: true }));
let shipped; // the unpacked package folder

before(() => {
  execFileSync("npm", ["pack", "--pack-destination", base], { cwd: root, stdio: "pipe" });
  const tgz = readdirSync(base).find((f) => f.endsWith(".tgz"));
  execFileSync("tar", ["-xzf", join(base, tgz), "-C", base]);
  shipped = join(base, "package");
});

/** What a worker folder holds that a hook would show in: wasm exports, wasm bytes, glue, shim. */
function worker(dir) {
  const wasm = readFileSync(join(dir, "tabmux_worker_bg.wasm"));
  return {
    exports: WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name),
    bytes: wasm.toString("latin1"),
    glue: readFileSync(join(dir, "tabmux_worker.js"), "utf8"),
    shim: readFileSync(join(dir, "shared-websocket-worker.js"), "utf8"),
  };
}

const PANIC_TEXT = "a test asked this worker to panic";

test("the packed worker has no test hooks: no count exports, no panic on request, no test-panic in the shim", () => {
  const w = worker(join(shipped, "dist/worker"));
  // The build gives the shipped wasm's exports one- or two-letter names (scripts/build.mjs
  // minifyNames); what the shim calls is the glue's: start() and WorkerRuntime's attach().
  assert.ok(w.exports.length > 0 && w.exports.every((e) => e.length <= 2), w.exports.join(" "));
  assert.match(w.glue, /\.start=/);
  assert.match(w.glue, /\.WorkerRuntime=/);
  assert.match(w.glue, /\battach\(/);
  assert.deepEqual(w.exports.filter((e) => /count|panic|test/i.test(e)), []);
  assert.ok(!w.bytes.includes(PANIC_TEXT), "the panic-on-request code is in the shipped wasm");
  for (const name of ["clientCount", "portCount"]) assert.ok(!w.glue.includes(name), `${name} in the shipped glue`);
  assert.doesNotMatch(w.shim, /test-panic|"panic"|test.?hooks?/i);
  assert.match(w.shim, /wasm_bindgen\.start\(BUILD\)/);
  // Nothing of the test build is packed.
  assert.equal(existsSync(join(shipped, "dist-test")), false);
});

test("the test worker (feature test-hooks) has each hook the packed one lacks", () => {
  const w = worker(join(root, "dist-test/worker"));
  assert.deepEqual(w.exports.filter((e) => /count/i.test(e)).sort(), ["workerruntime_clientCount", "workerruntime_portCount"]);
  assert.ok(w.bytes.includes(PANIC_TEXT));
  for (const name of ["clientCount", "portCount"]) assert.ok(w.glue.includes(name));
  // The same shim, stamped with the shipped build's id, so pages of that build use it.
  assert.equal(w.shim, readFileSync(join(root, "dist/worker/shared-websocket-worker.js"), "utf8"));
});
