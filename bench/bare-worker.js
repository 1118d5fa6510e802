// The baseline: a bare-JS SharedWorker that forwards each frame's original string to every
// port. No reconnects, no policy: the near-physical limit of the SharedWorker design.
// A page may also post `{ t: "send", id, data }`: written, then acknowledged as tabmux's worker
// does on the wire (the id, a number, with the next frame to that port as `[id…, frame]`, or
// alone after 20 ms), for `npm run bench:tab`'s baseline of a send that settles.
"use strict";
const sockets = new Map(); // url → { ws, ports: Set }
const ACK_HOLD_MS = 20;

/** Posts `data` to `port`, with the acknowledgements it holds in front. */
function post(port, data) {
  if (!port.acks?.length) return port.postMessage(data);
  clearTimeout(port.ackTimer);
  const msgs = data === undefined ? port.acks : [...port.acks, data];
  port.postMessage(msgs.length === 1 ? msgs[0] : msgs);
  port.acks = [];
}

self.onconnect = (event) => {
  const port = event.ports[0];
  let entry = null;
  port.onmessage = (e) => {
    const m = e.data;
    if (typeof m === "string" || m instanceof ArrayBuffer) return entry?.ws.send(m);
    if (m.t === "send" && entry) {
      entry.ws.send(m.data);
      if (!port.acks?.length) port.ackTimer = setTimeout(() => post(port), ACK_HOLD_MS);
      (port.acks ??= []).push(m.id);
      return;
    }
    if (m.t === "hello") {
      entry = sockets.get(m.url);
      if (!entry) {
        entry = { ws: new WebSocket(m.url), ports: new Set() };
        entry.ws.binaryType = "arraybuffer";
        entry.ws.onmessage = (ev) => {
          for (const p of entry.ports) post(p, ev.data);
        };
        entry.ws.onopen = () => {
          for (const p of entry.ports) p.postMessage({ t: "open" });
        };
        sockets.set(m.url, entry);
      } else if (entry.ws.readyState === WebSocket.OPEN) {
        port.postMessage({ t: "open" });
      }
      entry.ports.add(port);
    } else if (m.t === "bye" && entry) {
      entry.ports.delete(port);
      if (entry.ports.size === 0) {
        entry.ws.close(1000);
        sockets.delete(m.url);
      }
    }
  };
};
