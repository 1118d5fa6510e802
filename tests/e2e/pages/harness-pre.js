// Runs before tabmux loads (tests/engines uses it in every engine): the page's console and
// errors are kept in window.LOG; ?nosw removes SharedWorker (the direct fallback); ?nogoodbye
// stops every pagehide listener, so closing the tab is a tab that vanishes without a goodbye;
// window.SHOWN records each pageshow's `persisted` (back/forward cache).
window.LOG = [];
for (const level of ["log", "info", "warn", "error", "debug"]) {
  const orig = console[level];
  console[level] = (...a) => {
    LOG.push({ level, text: a.map((x) => (x instanceof Error ? x.message : String(x))).join(" ") });
    orig.apply(console, a);
  };
}
addEventListener("error", (e) => LOG.push({ level: "pageerror", text: String(e.message) }));
addEventListener("unhandledrejection", (e) => LOG.push({ level: "rejection", text: String(e.reason?.message ?? e.reason) }));
const query = new URLSearchParams(location.search);
if (query.has("nosw")) delete globalThis.SharedWorker;
if (query.has("nogoodbye")) addEventListener("pagehide", (e) => e.stopImmediatePropagation(), true);
window.SHOWN = [];
addEventListener("pageshow", (e) => SHOWN.push(e.persisted));
