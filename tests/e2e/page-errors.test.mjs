// The hook in helpers.mjs that fails a test whose page threw or rejected without a handler,
// checked by running tests/e2e/fixtures/page-errors.mjs in its own `node --test` and reading
// which of its tests failed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { root } from "./helpers.mjs";

test("an uncaught page error or unhandled rejection fails its test unless the test expects it", () => {
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "--test-timeout=60000", join(root, "tests", "e2e", "fixtures", "page-errors.mjs")], {
    encoding: "utf8",
    timeout: 120_000,
    // Its own test run, not a child of this one.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT")),
  });
  const results = Object.fromEntries([...r.stdout.matchAll(/^(?: {4})?(not ok|ok) \d+ - (.+)$/gm)].map((m) => [m[2], m[1]]));
  assert.deepEqual(
    { throw: results["uncaught throw"], reject: results["unhandled rejection"], declared: results["declared throw"], clean: results["clean"] },
    { throw: "not ok", reject: "not ok", declared: "ok", clean: "ok" },
    r.stdout + r.stderr,
  );
  assert.equal(r.status, 1);
  assert.match(r.stdout, /uncaught error in a page:[\s\S]*boom-thrown/);
  assert.match(r.stdout, /boom-rejected/);
});
