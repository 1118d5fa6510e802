// One small interface over three browser engines, so that each end-to-end scenario is written
// once: Chromium through playwright-core (as tests/e2e), Firefox ESR through puppeteer-core over
// WebDriver BiDi, WebKitGTK's MiniBrowser through WebKitWebDriver (classic W3C WebDriver over
// HTTP, spoken with plain fetch) under xvfb-run.
//
//   const b = await launch("firefox");      // b.name, b.version, b.canCrash
//   launch("firefox", { firefoxPrefs })     // extra Firefox prefs (tests/engines/online-probe.mjs)
//   const tab = await b.openTab(url);       // waits for document.title === "ready"
//   await tab.eval((arg) => ..., arg);      // runs in the page; the result goes through JSON
//   await tab.console();                    // what the page logged (the harness records it)
//   await tab.close();                      // a normal close: pagehide runs
//   await tab.crash();                      // only where b.canCrash: the renderer dies, no pagehide
//   await b.close();                        // kills the browser, driver and Xvfb, whatever happened
//
// Every call has a deadline: a hung engine fails the test instead of hanging the run.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";

export const ENGINES = ["chromium", "firefox", "webkit"];
const CALL_MS = 30_000;

function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The page-side wrapper: runs `fn(arg)`, awaits it and returns its JSON text. */
const wrap = (fn, arg) => `(async () => JSON.stringify((await (${fn})(${JSON.stringify(arg ?? null)})) ?? null))()`;

export async function launch(engine, { firefoxPrefs = {} } = {}) {
  if (engine === "chromium") return launchChromium();
  if (engine === "firefox") return launchFirefox(firefoxPrefs);
  if (engine === "webkit") return launchWebKit();
  throw new Error(`unknown engine ${engine}; one of ${ENGINES.join(", ")}`);
}

async function readyTab(tab) {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if ((await tab.eval(() => document.title).catch(() => null)) === "ready") return tab;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${tab.url}: the page did not become ready in 15 s (console: ${JSON.stringify(await tab.console().catch(() => null))})`);
}

const pageConsole = (tab) => tab.eval(() => globalThis.LOG ?? []);

async function launchChromium() {
  const { chromium } = await import("playwright-core");
  const executablePath = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Playwright turns the back/forward cache off; users' browsers have it.
    ignoreDefaultArgs: ["--disable-back-forward-cache"],
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext();
  return {
    name: "chromium",
    version: browser.version(),
    canCrash: true,
    async openTab(url, { ready = true } = {}) {
      const page = await context.newPage();
      const tab = {
        url,
        eval: async (fn, arg) => JSON.parse(await deadline(page.evaluate(wrap(fn, arg)), CALL_MS, "evaluate")),
        console: () => pageConsole(tab),
        close: () => deadline(page.close(), CALL_MS, "close"),
        async crash() {
          const cdp = await context.newCDPSession(page);
          cdp.send("Page.crash").catch(() => {});
        },
      };
      await deadline(page.goto(url), CALL_MS, `goto ${url}`);
      return ready ? readyTab(tab) : tab;
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

async function launchFirefox(extraPrefsFirefox) {
  const puppeteer = (await import("puppeteer-core")).default;
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: "/usr/bin/firefox-esr",
    headless: true,
    protocol: "webDriverBiDi",
    extraPrefsFirefox,
  });
  const pid = browser.process()?.pid;
  return {
    name: "firefox",
    version: await browser.version(),
    // No renderer crash over BiDi, and all tabs of one site share one content process.
    canCrash: false,
    async openTab(url, { ready = true } = {}) {
      const page = await browser.newPage();
      const tab = {
        url,
        page,
        eval: async (fn, arg) => JSON.parse(await deadline(page.evaluate(wrap(fn, arg)), CALL_MS, "evaluate")),
        console: () => pageConsole(tab),
        close: () => deadline(page.close(), CALL_MS, "close"),
        goto: (u) => deadline(page.goto(u), CALL_MS, `goto ${u}`),
        back: () => deadline(page.goBack(), CALL_MS, "back"),
      };
      await tab.goto(url);
      return ready ? readyTab(tab) : tab;
    },
    async close() {
      await deadline(browser.close(), 10_000, "firefox close").catch(() => {});
      if (pid) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.once("error", reject);
  });
}

async function launchWebKit() {
  const port = await freePort();
  // Its own process group: xvfb-run, Xvfb, the driver and MiniBrowser all die together.
  const proc = spawn("xvfb-run", ["-a", "WebKitWebDriver", `--port=${port}`, "--host=127.0.0.1"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killAll = async () => {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {}
    // Wait (bounded) until the whole group is gone.
    for (let end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      try {
        process.kill(-proc.pid, 0);
      } catch {
        return;
      }
    }
  };
  const base = `http://127.0.0.1:${port}`;
  async function call(method, path, body) {
    const r = await deadline(
      fetch(base + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }),
      CALL_MS + 5000,
      `WebDriver ${method} ${path}`,
    );
    const json = await r.json();
    if (!r.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  }
  try {
    const end = Date.now() + 15_000;
    for (;;) {
      try {
        await call("GET", "/status");
        break;
      } catch (e) {
        if (Date.now() > end) throw new Error(`WebKitWebDriver did not answer in 15 s: ${e.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const session = await call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          "webkitgtk:browserOptions": { binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", args: ["--automation"] },
        },
      },
    });
    const sid = session.sessionId;
    const s = (path) => `/session/${sid}${path}`;
    await call("POST", s("/timeouts"), { script: CALL_MS, pageLoad: CALL_MS });
    const home = await call("GET", s("/window"));
    // WebDriver talks to one window at a time: every command switches to its tab first, one
    // command at a time.
    let current = home;
    let chain = Promise.resolve();
    const serial = (f) => {
      const run = chain.then(f, f);
      chain = run.catch(() => {});
      return run;
    };
    const on = async (handle) => {
      if (current !== handle) {
        await call("POST", s("/window"), { handle });
        current = handle;
      }
    };
    async function evalIn(handle, fn, arg) {
      const script = `const done = arguments[arguments.length - 1]; ${wrap(fn, arg)}.then((r) => done({ r }), (e) => done({ e: String((e && e.stack) || e) }));`;
      const out = await serial(async () => {
        await on(handle);
        return call("POST", s("/execute/async"), { script, args: [] });
      });
      if (out.e !== undefined) throw new Error(`in the page: ${out.e}`);
      return JSON.parse(out.r);
    }
    return {
      name: "webkit",
      version: `${session.capabilities.browserName} ${session.capabilities.browserVersion}`,
      // Classic WebDriver cannot crash a web process.
      canCrash: false,
      async openTab(url, { ready = true } = {}) {
        const handle = await serial(async () => {
          const { handle } = await call("POST", s("/window/new"), { type: "tab" });
          await on(handle);
          await call("POST", s("/url"), { url });
          return handle;
        });
        const tab = {
          url,
          eval: (fn, arg) => evalIn(handle, fn, arg),
          console: () => pageConsole(tab),
          close: () =>
            serial(async () => {
              await on(handle);
              await call("DELETE", s("/window"));
              await call("POST", s("/window"), { handle: home });
              current = home;
            }),
        };
        return ready ? readyTab(tab) : tab;
      },
      async close() {
        await deadline(call("DELETE", s("")), 10_000, "webkit session end").catch(() => {});
        await killAll();
      },
    };
  } catch (e) {
    await killAll();
    throw e;
  }
}
