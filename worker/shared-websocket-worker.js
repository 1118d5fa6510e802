// tabmux SharedWorker script, served as /shared-websocket-worker.js (a classic worker).
// This shim only loads the wasm runtime and hands it every port; all logic is in Rust
// (crates/worker). The `connect` handler is registered before anything asynchronous,
// and ports are queued until wasm is ready, so the first tab is never lost. A port's own
// messages wait in the port until the runtime starts it.
"use strict";

let runtime = null;
let failure = null;
const waiting = [];

function refuse(port) {
  port.postMessage({ t: "error", code: "worker-failed", message: "tabmux: the worker could not load its wasm: " + failure, id: null });
}

self.addEventListener("connect", (event) => {
  for (const port of event.ports) {
    if (runtime) runtime.attach(port);
    else if (failure) refuse(port);
    else waiting.push(port);
  }
});

importScripts("./tabmux_worker.js");

wasm_bindgen({ module_or_path: "./tabmux_worker_bg.wasm" }).then(
  () => {
    runtime = wasm_bindgen.start();
    for (const port of waiting.splice(0)) runtime.attach(port);
  },
  (err) => {
    failure = String(err && err.message ? err.message : err);
    for (const port of waiting.splice(0)) refuse(port);
  },
);
