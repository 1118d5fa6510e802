// `npm run demo`: builds everything and serves the demo page with a ticking feed on
// 127.0.0.1. Open the printed URL in several tabs. PORT=… picks the port (default 8080,
// 0 for any free one).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { buildDemo } from "./demo-build.mjs";
import { root, run } from "./bootstrap.mjs";

await buildDemo();
run("cargo", ["build", "-p", "tabmux-devserver"]);
const port = process.env.PORT ?? "8080";
const server = spawn(
  join(root, "target", "debug", "tabmux-devserver"),
  ["--port", port, "--static", join(root, "www", "dist"), "--tick-ms", "1000", "--relay"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
server.stdout.setEncoding("utf8");
server.stdout.on("data", (chunk) => {
  const m = chunk.match(/http:\/\/127\.0\.0\.1:\d+/);
  if (m) console.log(`\n  tabmux demo: open ${m[0]}/ in several tabs (Ctrl-C to stop)\n`);
  else process.stdout.write(chunk);
});
server.on("exit", (code) => process.exit(code ?? 0));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.kill("SIGINT"));
