// Runs before tabmux loads (tests/engines uses it in every engine): the page's console and
// errors are kept in window.LOG (an object logged as its JSON text, so a test can read what a
// debug log said); ?nosw removes SharedWorker (the direct fallback); ?nogoodbye stops every
// pagehide listener, so closing the tab is a tab that vanishes without a goodbye;
// window.SHOWN records each pageshow's `persisted` (back/forward cache).
window.LOG = [];
const shown = (x) => {
  if (x instanceof Error) return x.message;
  if (typeof x === "object" && x !== null) {
    try {
      return JSON.stringify(x);
    } catch {}
  }
  return String(x);
};
for (const level of ["log", "info", "warn", "error", "debug"]) {
  const orig = console[level];
  console[level] = (...a) => {
    LOG.push({ level, text: a.map(shown).join(" ") });
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
