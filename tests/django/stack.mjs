// The topology the Django tests run against, started from scratch on free loopback ports:
// redis-server, two Daphne nodes of examples/django-channels (its .venv), and nginx with the
// example's nginx.conf balancing them and serving the page, tabmux's module and its worker.
// Every process is killed by stop(), and by the exit hook if a test file dies first.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, symlinkSync, openSync, rmSync, existsSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const example = join(root, "examples", "django-channels");
export const PUBLISH_KEY = "test-publish-key";
/** The stack's DJANGO_SECRET_KEY: a fresh random one per run, the same on both nodes (each
 * checks the cookies and tokens the other signed). Without it the example refuses to start. */
const SECRET_KEY = randomBytes(32).toString("base64url");

const live = new Set();
process.on("exit", () => {
  for (const p of live) p.kill(p.spawnargs[0] === "nginx" ? "SIGTERM" : "SIGKILL"); // nginx's master takes its workers down
});
// Killed from outside (Ctrl-C, a runner's timeout): exit, so the hook above still runs.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(sig, () => process.exit(1));

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Polls `fn` until truthy or `ms` pass (then throws naming `what`). */
export async function until(fn, what, ms = 10_000, every = 25) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = String(e.message ?? e);
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out after ${ms} ms waiting for: ${what} (last: ${JSON.stringify(last)})`);
}

const tcpOpen = (port) =>
  new Promise((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

/** A child process logging to `<dir>/<name>.log`. */
class Proc {
  constructor(name, cmd, args, { dir, env, cwd }) {
    Object.assign(this, { name, cmd, args, dir, env, cwd });
  }
  start() {
    const log = openSync(join(this.dir, `${this.name}.log`), "a");
    this.proc = spawn(this.cmd, this.args, { cwd: this.cwd, env: { ...process.env, ...this.env }, stdio: ["ignore", log, log] });
    live.add(this.proc);
    this.exited = new Promise((r) => this.proc.once("exit", (code, signal) => (live.delete(this.proc), r({ code, signal }))));
    return this;
  }
  /** Sends `signal`, waits for the exit (SIGKILL after 10 s) and returns `{ code, signal }`. */
  async stop(signal = "SIGKILL") {
    if (!this.proc) return null;
    const proc = this.proc;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const exit = await this.exited;
    clearTimeout(t);
    return exit;
  }
  log() {
    return readFileSync(join(this.dir, `${this.name}.log`), "utf8");
  }
}

/** Starts the whole stack; `env` goes to both Django nodes (e.g. TABMUX_TOKEN_MAX_AGE). */
export async function startStack({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tabmux-django-"));
  chmodSync(dir, 0o755); // nginx's workers (user nobody when started as root) read the static root
  const [redisPort, portA, portB, nginxPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const stack = { dir, redisPort, nginxPort, http: `http://127.0.0.1:${nginxPort}`, procs: [] };

  // Redis without persistence: a restart loses everything (the worst case scenario 4 checks).
  stack.redis = new Proc("redis", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { dir });
  const python = join(example, ".venv", "bin", "python");
  const node = (name, port) =>
    new Proc(name, python, ["-m", "daphne", "-b", "127.0.0.1", "-p", String(port), "feedsite.asgi:application"], {
      dir,
      cwd: example,
      env: { DJANGO_SECRET_KEY: SECRET_KEY, REDIS_URL: `redis://127.0.0.1:${redisPort}/0`, TABMUX_NODE: name, TABMUX_PUBLISH_KEY: PUBLISH_KEY, TABMUX_DEMO_LOGIN: "1", PYTHONUNBUFFERED: "1", ...env },
    });
  stack.nodes = { a: node("a", portA), b: node("b", portB) };
  stack.nodes.a.port = portA;
  stack.nodes.b.port = portB;

  // The static root nginx serves: the test page, tabmux's page module and its worker.
  const statics = join(dir, "static");
  mkdirSync(statics);
  symlinkSync(join(root, "tests", "django", "pages", "index.html"), join(statics, "index.html"));
  for (const f of ["shared-websocket-worker.js", "tabmux_worker.js", "tabmux_worker_bg.wasm"]) {
    if (!existsSync(join(root, "dist", "worker", f))) throw new Error(`dist/worker/${f} is missing: run \`npm run build\` first`);
    symlinkSync(join(root, "dist", "worker", f), join(statics, f));
  }
  symlinkSync(join(root, "js"), join(statics, "js"));
  symlinkSync(join(root, "dist"), join(statics, "dist"));
  // Copies of the worker that tests change (tests/e2e/helpers.mjs workerCopy).
  mkdirSync(join(root, "dist-test"), { recursive: true });
  symlinkSync(join(root, "dist-test"), join(statics, "dist-test"));
  const vars = { PREFIX: dir, NODE_A: portA, NODE_B: portB, NGINX_PORT: nginxPort, STATIC_ROOT: statics };
  const conf = readFileSync(join(example, "nginx.conf"), "utf8").replace(/\$\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  writeFileSync(join(dir, "nginx.conf"), conf);
  stack.nginx = new Proc("nginx", "nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { dir });

  stack.procs = [stack.redis, stack.nodes.a, stack.nodes.b, stack.nginx];
  stack.startRedis = async () => {
    stack.redis.start();
    await until(() => tcpOpen(redisPort), "redis-server listening");
  };
  stack.startNode = async (n) => {
    n.start();
    await until(async () => (await fetch(`http://127.0.0.1:${n.port}/stats`, { signal: AbortSignal.timeout(2000) })).ok, `node ${n.name} answering`, 30_000, 100);
  };
  stack.stop = async () => {
    // nginx: SIGTERM, so the master stops its workers (a SIGKILLed master leaves them behind).
    for (const p of stack.procs) await p.stop(p === stack.nginx ? "SIGTERM" : "SIGKILL");
    if (process.env.TABMUX_DJANGO_KEEP) console.log(`# logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    await stack.startRedis();
    await Promise.all([stack.startNode(stack.nodes.a), stack.startNode(stack.nodes.b)]);
    stack.nginx.start();
    await until(async () => (await fetch(`${stack.http}/stats`, { signal: AbortSignal.timeout(2000) })).ok, "nginx proxying");
  } catch (e) {
    const logs = stack.procs.filter((p) => p.proc).map((p) => `--- ${p.name}\n${p.log().slice(-2000)}`).join("\n");
    await stack.stop();
    throw new Error(`${e.message}\n${logs}`);
  }
  /** Runs Python in the example's Django settings against this stack's Redis; returns stdout. */
  stack.manage = (code) =>
    new Promise((resolve, reject) => {
      const p = spawn(python, ["manage.py", "shell", "--verbosity", "0", "-c", code], { cwd: example, env: { ...process.env, DJANGO_SECRET_KEY: SECRET_KEY, REDIS_URL: `redis://127.0.0.1:${redisPort}/0` }, timeout: 20_000 });
      let out = "", err = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      p.on("exit", (code) => (code === 0 ? resolve(out.trim().split("\n").at(-1)) : reject(new Error(`manage.py shell: exit ${code}\n${err}`))));
    });
  /** One node's counters, read from the node itself (not through nginx). */
  stack.stats = async (n) => (await fetch(`http://127.0.0.1:${n.port}/stats`, { signal: AbortSignal.timeout(5000) })).json();
  /** Publishes `frames` (JSON values) on `stream` through node `n`; returns {first, last}. */
  stack.publish = async (n, stream, frames, topic) => {
    const r = await fetch(`http://127.0.0.1:${n.port}/publish/${stream}`, {
      method: "POST",
      headers: { "X-Publish-Key": PUBLISH_KEY, "Content-Type": "application/json" },
      body: JSON.stringify(topic ? { frames, topic } : { frames }),
      signal: AbortSignal.timeout(5000),
    });
    const body = await r.json();
    if (!r.ok) throw Object.assign(new Error(`publish via ${n.name}: HTTP ${r.status} ${JSON.stringify(body)}`), { status: r.status });
    return body;
  };
  return stack;
}
