// What every bench script starts with: the toolchain (Chromium included), the wasm build
// (function names kept when `names`, for profiles), the dev server in release mode serving
// the worker and the project root, and Chromium's path.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { build } from "../scripts/build.mjs";
import { ensureToolchain, root, run as sh, env } from "../scripts/bootstrap.mjs";

export async function setup({ names = false } = {}) {
  ensureToolchain({ browser: true });
  if (names) process.env.TABMUX_WASM_NAMES = "1";
  await build();
  delete process.env.TABMUX_WASM_NAMES;
  sh("cargo", ["build", "--release", "-p", "tabmux-devserver"]);
  // Imported once the toolchain is there (the helpers load playwright-core).
  const helpers = await import("../tests/e2e/helpers.mjs");
  const chromium = execFileSync("sh", ["-c", "command -v chromium"], { env, encoding: "utf8" }).trim();
  const server = await helpers.startServer({ statics: [join(root, "dist", "worker"), root], bin: join(root, "target", "release", "tabmux-devserver") });
  return { helpers, chromium, server };
}

/** The median of `xs` (the mean of the middle two when their count is even); null when empty. */
export const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : null;
};
