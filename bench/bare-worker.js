// The baseline: a bare-JS SharedWorker that forwards each frame's original string to every
// port. No reconnects, no policy: the near-physical limit of the SharedWorker design.
"use strict";
const sockets = new Map(); // url → { ws, ports: Set }

self.onconnect = (event) => {
  const port = event.ports[0];
  let entry = null;
  port.onmessage = (e) => {
    const m = e.data;
    if (typeof m === "string" || m instanceof ArrayBuffer) return entry?.ws.send(m);
    if (m.t === "hello") {
      entry = sockets.get(m.url);
      if (!entry) {
        entry = { ws: new WebSocket(m.url), ports: new Set() };
        entry.ws.binaryType = "arraybuffer";
        entry.ws.onmessage = (ev) => {
          for (const p of entry.ports) p.postMessage(ev.data);
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
