// tabmux: the ES-module entry. A thin wrapper over the wasm bindings: the small shared-mode
// client (crates/tab) always, and the direct-mode engine (crates/direct) through a dynamic
// import, fetched only by a page that runs it. It gives `on()` an unsubscribe function. No
// policy lives here: which transport to use, and when a failed worker falls back to direct
// mode, is the wasm client's answer.
import init, { connectShared, pickTransport, tabId, Op } from "../dist/tab/tabmux_tab.js";

// Start-up marks in the page's performance timeline (DevTools, or performance.getEntriesByName):
// tabmux:entry (this module evaluated), tabmux:wasm (the client's wasm compiled and
// instantiated), tabmux:welcome (the first connect() accepted). Once per page.
const mark = (name) => globalThis.performance?.mark?.(name);
mark("tabmux:entry");
// In a page the client's wasm (a few tens of KB) is fetched and compiled as soon as this
// module loads, so the page's own start-up overlaps it; connect() waits for it. Elsewhere
// (server rendering) nothing is fetched until connect(). A failed load rejects connect().
const load = () => init().then(() => mark("tabmux:wasm"), cspHint);

// The client's wasm did not start, so this message is JavaScript's to give. The two ways a
// Content-Security-Policy stops it: WebAssembly not allowed (a CompileError naming the
// policy), or the wasm's fetch refused by connect-src (a TypeError, as any failed fetch).
function cspHint(e) {
  const [code, hint] = /Content Security Policy/i.test(e?.message)
    ? ["wasm-blocked", "this page's Content-Security-Policy does not allow WebAssembly: add 'wasm-unsafe-eval' to script-src"]
    : e instanceof TypeError
      ? ["load-failed", "the client's wasm could not be fetched; under a Content-Security-Policy, connect-src must allow where it is served from (add 'self')"]
      : [];
  if (!code) throw e;
  throw Object.assign(new Error(`tabmux: ${hint} (the browser said: ${e.message})`), { code });
}
let ready = typeof document !== "undefined" ? load() : null;
ready?.catch(() => {});
let direct = null;
let welcomed = false;

async function loadDirect() {
  const module = await import("../dist/direct/tabmux_direct.js");
  await module.default();
  return module;
}

// Direct mode: the module is fetched on first use. Also handed to the shared client, which
// calls it (with the worker's error as `notice`) when a worker fails in mode "auto".
async function viaDirect(options, notice) {
  direct ??= loadDirect();
  // A failed load is tried again by the next connect().
  const module = await direct.catch((e) => {
    direct = null;
    throw e;
  });
  return module.connectDirect(options, tabId(), notice);
}

/**
 * Connects this page to the endpoint in `options.url`, through the shared worker where the
 * browser has one (or `mode: "direct"` asks otherwise).
 * @param {import("./index.js").ConnectOptions} options
 * @returns {Promise<Client>}
 */
export async function connect(options) {
  await (ready ??= load());
  const inner = pickTransport(options) === "shared" ? await connectShared(options, viaDirect) : await viaDirect(options);
  if (!welcomed) mark("tabmux:welcome");
  welcomed = true;
  return new Client(inner);
}

// Each method calls the wasm client's one entry, `call(op, a, b)`, with its `Op` (the enum in
// crates/tab/src/api.rs, exported by the glue).

/** A page's connection. See index.d.ts for the full contract. */
export class Client {
  #inner;

  constructor(inner) {
    this.#inner = inner;
  }

  /** "shared" or "direct": the transport actually in use. */
  get transport() {
    return this.#inner.call(Op.Transport);
  }

  /** This client's id in the engine. */
  get clientId() {
    return this.#inner.call(Op.ClientId);
  }

  /** This page's id, shared by every client of the page. */
  get tabId() {
    return this.#inner.call(Op.TabId);
  }

  /** The last status received, or null before the first. */
  get status() {
    return this.#inner.call(Op.Status);
  }

  /** Whether the worker chose this tab as its endpoint's leader (always true in direct mode). */
  get leader() {
    return this.#inner.call(Op.Leader);
  }

  /** Adds a listener (with `{ exclusive: true }`: one tab per frame); returns a function that removes it. */
  on(event, listener, options) {
    const id = this.#inner.call(options?.exclusive ? Op.OnExclusive : Op.On, event, listener);
    return () => this.#inner.call(Op.Off, id);
  }

  /** Resolves once written on the socket (queued while it is not open); rejects if never. */
  send(data) {
    return this.#inner.call(Op.Send, data);
  }

  /** Sends JSON.stringify(value), like send(); rejects with "bad-message" if it has no JSON form. */
  sendJson(value) {
    return this.#inner.call(Op.SendJson, value);
  }

  /** Calls handler(data, topic) for each frame of `topic`; returns a function that unsubscribes. */
  subscribe(topic, handler, options) {
    const id = this.#inner.call(options?.exclusive ? Op.SubscribeExclusive : Op.Subscribe, topic, handler);
    return () => this.#inner.call(Op.Unsubscribe, id);
  }

  /** The frames the worker kept (options.replay) for `topic`, or for frames without one. */
  history(topic) {
    return this.#inner.call(Op.History, topic);
  }

  stats() {
    return this.#inner.call(Op.Stats);
  }

  reconnect() {
    this.#inner.call(Op.Reconnect);
  }

  /** Reports a token, or signs out with null; see index.d.ts. */
  setToken(token) {
    this.#inner.call(Op.SetToken, token);
  }

  /** Signs out every tab of this endpoint at once: setToken(null). */
  signOut() {
    this.#inner.call(Op.SetToken, null);
  }

  /** Detaches; the socket closes when its last client is gone. Calling it again does nothing. */
  close() {
    const inner = this.#inner;
    if (inner instanceof Closed) return;
    inner.call(Op.Close);
    // Free the wasm side now rather than whenever the garbage collector finalizes this object
    // (until then each closed client kept a few hundred bytes of the page's wasm memory).
    this.#inner = new Closed(inner);
    inner.free();
  }
}

/** What a Client holds once closed: what it last knew, and the wasm side's "closed" error. */
class Closed {
  constructor(inner) {
    this.known = new Map([Op.Transport, Op.ClientId, Op.TabId, Op.Status].map((op) => [op, inner.call(op)]));
    this.error = inner.call(Op.ClosedError);
  }

  // Every call fails as the closed wasm client's would: these reject, the others throw; the
  // getters still answer, off/unsubscribe find nothing, nothing leads, and close does nothing.
  call(op) {
    if (this.known.has(op)) return this.known.get(op);
    switch (op) {
      case Op.Leader:
      case Op.Off:
      case Op.Unsubscribe:
        return false;
      case Op.Close:
        return undefined;
      case Op.Send:
      case Op.SendJson:
      case Op.History:
      case Op.Stats:
        return Promise.reject(this.error);
      default:
        throw this.error;
    }
  }
}
