// tabmux SharedWorker script, served as /shared-websocket-worker.js (a classic worker).
// This shim only loads the wasm runtime and hands it every port; all logic is in Rust
// (crates/worker). The `connect` handler is registered before anything asynchronous,
// and ports are queued until wasm is ready, so the first tab is never lost. A port's own
// messages wait in the port until the runtime starts it.
"use strict";

// This release's build id: scripts/build.mjs writes a hash of the worker files here. Pages
// name the worker after their own build id and say it in their hello, so tabs of another
// release never share this worker (README, "Deploys").
const BUILD = "dev";

// Start-up marks in the worker's performance timeline: tabmux:worker-script (this script
// running), tabmux:worker-glue (the glue imported), tabmux:worker-wasm (the runtime ready);
// the runtime adds tabmux:worker-hello (its first client attached and welcomed).
self.performance?.mark?.("tabmux:worker-script");
let runtime = null;
let failure = null;
const waiting = [];
// Weak references to every port handed to the runtime, for a last word if the runtime traps.
let handed = [];

function hand(port) {
  runtime.attach(port);
  handed.push(new WeakRef(port));
  if (handed.length > 64) handed = handed.filter((r) => r.deref());
}

// A Rust panic aborts the wasm instance (panic = "abort"): nothing it holds can be trusted any
// more. Tell every tab, then end this worker, so the next tab to connect starts a fresh one.
self.addEventListener("error", (event) => {
  if (!runtime) return;
  const reason = event.message || String(event.error);
  const message = "tabmux: the worker crashed: " + reason;
  for (const ref of handed) ref.deref()?.postMessage({ t: "error", code: "worker-crashed", message, reason, id: null });
  self.close();
});

function refuse(port) {
  port.postMessage({ t: "error", code: "worker-failed", message: "tabmux: the worker could not load its wasm: " + failure, id: null });
}

self.addEventListener("connect", (event) => {
  for (const port of event.ports) {
    if (runtime) hand(port);
    else if (failure) refuse(port);
    else waiting.push(port);
  }
});

// The wasm download starts before the (synchronous) import of its glue, so the two overlap.
const wasm = fetch("./tabmux_worker_bg.wasm");
importScripts("./tabmux_worker.js");
self.performance?.mark?.("tabmux:worker-glue");

wasm_bindgen({ module_or_path: wasm }).then(
  () => {
    runtime = wasm_bindgen.start(BUILD);
    self.performance?.mark?.("tabmux:worker-wasm");
    for (const port of waiting.splice(0)) hand(port);
  },
  (err) => {
    failure = String(err && err.message ? err.message : err);
    for (const port of waiting.splice(0)) refuse(port);
  },
);
