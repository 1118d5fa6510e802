// Prepares a test app (tests/apps/<name>): its pinned dependencies from its own lockfile
// (`npm ci`, skipped when node_modules is already newer than the lockfile), then tabmux
// itself, packed from this checkout and unpacked into its node_modules. tabmux is not in the
// app's package.json: the tarball changes with every build, and its hash would break the
// lockfile. Every command has a time bound; its output is shown only when it fails.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../e2e/helpers.mjs";

/** Runs a command in `cwd` within `minutes`; throws with its output when it fails. */
export function sh(cmd, args, { cwd, minutes = 10, env = {} } = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: minutes * 60_000, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`\`${cmd} ${args.join(" ")}\` in ${cwd} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ms: Date.now() - started, out: r.stdout };
}

export function installApp(dir) {
  const times = {};
  const marker = join(dir, "node_modules", ".package-lock.json");
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(join(dir, "package-lock.json")).mtimeMs) {
    times.npmCiMs = sh("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, minutes: 15 }).ms;
  }
  const tmp = mkdtempSync(join(tmpdir(), "tabmux-pack-"));
  try {
    sh("npm", ["pack", "--pack-destination", tmp], { cwd: root });
    const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
    sh("tar", ["-xzf", join(tmp, tgz), "-C", tmp]);
    rmSync(join(dir, "node_modules", "tabmux"), { recursive: true, force: true });
    renameSync(join(tmp, "package"), join(dir, "node_modules", "tabmux"));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return times;
}
