// A minimal Chrome DevTools Protocol client over one browser WebSocket (flattened sessions),
// for the bench scripts. Raw CDP, not Playwright: no Network domain, so a page's own socket
// frames are never copied to the client.
import WebSocket from "ws";

export function cdp(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  let id = 0;
  const waiting = new Map();
  ws.on("message", (buf) => {
    const m = JSON.parse(buf.toString());
    const w = m.id != null && waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    m.error ? w.reject(new Error(`${w.method}: ${m.error.message}`)) : w.resolve(m.result);
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      waiting.set(++id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  return { ready: new Promise((r, j) => (ws.once("open", r), ws.once("error", j))), send, close: () => ws.close() };
}

/** Self time per function (µs) in a V8 CPU profile (`Profiler.stop`'s), highest first, as
 *  [name, µs] pairs, a function named with its file; and the total, idle included. */
export function selfTimes(profile) {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const fns = new Map();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const f = frames.get(id);
    const where = f.url ? f.url.split("/").pop() : "";
    const name = `${f.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    totalUs += us;
  });
  return { totalUs, byFunction: [...fns].sort((a, b) => b[1] - a[1]) };
}
