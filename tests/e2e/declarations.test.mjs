// The declarations match the runtime: the keys of a real `status` and `stats()` object, read
// in the browser in both transports, are exactly the members js/index.d.ts declares for
// `Status` and `Stats`. A field added on one side and not the other fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { withServerAndBrowser, openTab, until, root } from "./helpers.mjs";

let server, browser;
withServerAndBrowser((s, b) => ([server, browser] = [s, b]));

/** The member names of interface `name` in index.d.ts, with those of the interfaces it extends. */
export function declaredKeys(name, file = join(root, "js", "index.d.ts")) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const interfaces = new Map();
  for (const n of source.statements) if (ts.isInterfaceDeclaration(n)) interfaces.set(n.name.text, n);
  const keys = (n) => {
    const decl = interfaces.get(n);
    assert.ok(decl, `index.d.ts declares interface ${n}`);
    const own = decl.members.map((m) => m.name.getText(source));
    const inherited = (decl.heritageClauses ?? []).flatMap((h) => h.types.flatMap((t) => keys(t.expression.getText(source))));
    return [...inherited, ...own];
  };
  return [...new Set(keys(name))].sort();
}

for (const mode of ["shared", "direct"]) {
  test(`${mode} mode: Object.keys(status) and Object.keys(await stats()) are exactly the declared Status and Stats members`, async () => {
    const context = await browser.newContext();
    const page = await openTab(context, server);
    await page.evaluate((o) => T.connect(o), { url: server.ws("/ws/decl"), mode });
    await until(async () => (await page.evaluate(() => T.state(0)))?.state === "open", "open");
    const { status, stats } = await page.evaluate(async () => ({
      status: Object.keys(T.clients[0].c.status).sort(),
      stats: Object.keys(await T.clients[0].c.stats()).sort(),
    }));
    assert.deepEqual(status, declaredKeys("Status"), "status keys (runtime) vs Status (index.d.ts)");
    assert.deepEqual(stats, declaredKeys("Stats"), "stats() keys (runtime) vs Stats (index.d.ts)");
    await context.close();
  });
}

test("the comparison can fail: a member missing from a declaration is seen", () => {
  const status = declaredKeys("Status");
  assert.ok(status.includes("health") && status.includes("lastHeartbeatAt"));
  assert.ok(declaredKeys("Stats").includes("framesIn"));
  assert.ok(declaredKeys("Stats").includes("health"), "Stats inherits Status's members");
});
