"use client";
// tabmux/react: a provider and hooks over the tabmux client. Lifecycle glue only: every
// policy (reconnects, topic ref-counts, dedup) is in the engine. "use client": in the Next.js
// App Router (React Server Components) the provider and hooks are client components, so a
// server layout can render TabmuxProvider; importing this module on the server connects
// nothing and fetches nothing (connect() runs only in effects).
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { connect } from "../dist/index.js";

const OptionsContext = createContext(null);

// The provider's string token once it changed after the first render: a client still
// connecting then (an auth SDK that signs in right after the page loads) is told it as soon
// as it is connected.
let latestToken;

/**
 * Gives every hook below it these connect options (a hook's own options are merged over them)
 * and the user's token: a string (the first connect carries it; a change is `setToken`, null
 * signs out) or your auth SDK's function (`token.get`: asked by the worker when it needs one).
 */
export function TabmuxProvider({ options, token, children }) {
  const getter = useRef(null);
  getter.current = typeof token === "function" ? token : null;
  // One stable function per provider: a new getter never reconnects.
  const get = useCallback(() => getter.current?.(), []);
  const value = useMemo(() => {
    if (token === undefined) return { options };
    const t = typeof token === "function" ? { get } : { value: token, required: true };
    return { options: { ...options, token: { ...options?.token, ...t } } };
  }, [options, token === undefined, typeof token === "function", get]);
  // Later values of a string token go to the clients as setToken (null: signOut): each value
  // once, compared with the last one told (the first one went in the options).
  const told = useRef(token);
  useEffect(() => {
    if (typeof token === "function" || token === undefined || token === told.current) return;
    told.current = token;
    latestToken = token;
    for (const entry of clients.values()) entry.client?.setToken(token ?? null);
  }, [token]);
  return createElement(OptionsContext.Provider, { value }, children);
}

// Handlers (and the filter) are not connection settings: they are held by latest reference.
// `exclusive` is the hook's listener's own option, not the connection's.
const HANDLERS = ["onMessage", "onStatus", "onError", "filter", "exclusive"];

function connectOptions(merged) {
  const out = {};
  for (const [k, v] of Object.entries(merged ?? {})) {
    if (HANDLERS.includes(k) || k === "useSharedWorker") continue;
    out[k] = v;
  }
  if (merged?.useSharedWorker === false) out.mode = "direct";
  else if (merged?.useSharedWorker === true && !out.mode) out.mode = "auto";
  return out;
}

// Stable key: the same settings give the same key whatever the object identity or key order.
// The token's value and function are not settings: a new token is setToken, not a new socket.
function keyOfSettings(settings) {
  if (!settings.token) return keyOf(settings);
  const { value, get, ...token } = settings.token;
  return keyOf({ ...settings, token });
}

function keyOf(value) {
  if (Array.isArray(value)) return `[${value.map(keyOf).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${keyOf(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// One client per distinct settings in this page, shared by every hook that uses them. Its
// release waits a tick, so StrictMode's unmount-and-remount keeps the same client (and the
// same socket) instead of closing and opening one.
const clients = new Map();

function acquire(key, options) {
  let entry = clients.get(key);
  if (!entry) {
    entry = { refs: 0, timer: null, client: null, error: null, promise: null };
    entry.promise = connect(options).then(
      (c) => {
        if (latestToken !== undefined && latestToken !== options.token?.value && !options.token?.get) c.setToken(latestToken ?? null);
        return (entry.client = c);
      },
      (e) => {
        entry.error = e;
        clients.delete(key);
        throw e;
      },
    );
    clients.set(key, entry);
  }
  clearTimeout(entry.timer);
  entry.timer = null;
  entry.refs++;
  return entry;
}

function release(key, entry) {
  entry.refs--;
  if (entry.refs > 0) return;
  entry.timer = setTimeout(() => {
    if (entry.refs > 0) return;
    clients.delete(key);
    entry.promise.then((c) => c.close(), () => {});
  }, 0);
}

function useClient(options) {
  const provided = useContext(OptionsContext)?.options;
  const merged = useMemo(() => ({ ...provided, ...options }), [provided, options]);
  const settings = connectOptions(merged);
  const key = keyOfSettings(settings);
  const [client, setClient] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!settings.url) {
      setError(new Error("tabmux: useSharedWebSocket needs options.url (or a TabmuxProvider)"));
      return undefined;
    }
    const entry = acquire(key, settings);
    let live = true;
    entry.promise.then(
      (c) => live && setClient(c),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
      setClient(null);
      release(key, entry);
    };
    // `key` stands for every setting: only a change of settings reconnects.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return { client, error, merged };
}

function useLatest(value) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

/** The client's status, re-rendering only when a new status arrives (never for frames). */
function useStatus(client, handlers) {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    if (!client) return undefined;
    setStatus(client.status);
    return client.on("status", (s) => {
      setStatus(s);
      handlers?.current.onStatus?.(s);
    });
  }, [client, handlers]);
  return status;
}

/**
 * The shared connection: `{ status, lastMessage, send, sendJson, subscribe, reconnect,
 * transport, client, error }`. `options` (merged over the provider's) may hold `onMessage`,
 * `onStatus`, `onError` handlers and a `filter(data)`: a new function never reconnects. Only
 * frames the filter accepts set `lastMessage` (a render) and reach `onMessage`; without a
 * filter every frame does. With `json: true` they are the parsed values. With
 * `exclusive: true` only the frames the worker chose this tab for do (one tab per frame).
 * `useSharedWorker: false` forces a socket in this page.
 */
export function useSharedWebSocket(options) {
  const { client, error, merged } = useClient(options);
  const handlers = useLatest(merged);
  const status = useStatus(client, handlers);
  const [lastMessage, setLastMessage] = useState(null);
  const exclusive = merged.exclusive === true;
  useEffect(() => {
    if (!client) return undefined;
    const offs = [
      client.on("message", (m) => {
        const h = handlers.current;
        if (h.filter && !h.filter(m)) return;
        setLastMessage(m);
        h.onMessage?.(m);
      }, { exclusive }),
      client.on("error", (e) => handlers.current.onError?.(e)),
    ];
    return () => offs.forEach((off) => off());
  }, [client, handlers, exclusive]);
  const clientRef = useLatest(client);
  const send = useCallback((data) => {
    const c = clientRef.current;
    return c ? c.send(data) : Promise.reject(new Error("tabmux: not connected yet"));
  }, [clientRef]);
  const sendJson = useCallback((value) => {
    const c = clientRef.current;
    return c ? c.sendJson(value) : Promise.reject(new Error("tabmux: not connected yet"));
  }, [clientRef]);
  const subscribe = useCallback((topic, handler) => {
    const c = clientRef.current;
    if (!c) throw new Error("tabmux: not connected yet");
    return c.subscribe(topic, handler);
  }, [clientRef]);
  const reconnect = useCallback(() => clientRef.current?.reconnect(), [clientRef]);
  return { status, lastMessage, send, sendJson, subscribe, reconnect, transport: client?.transport ?? null, client, error };
}

/**
 * Calls `handler(data, topic)` for frames of `topic` while mounted (needs options.topics).
 * With `exclusive: true` in `options`, each frame calls it in one subscribed tab only.
 */
export function useTopic(topic, handler, options) {
  const { client, merged } = useClient(options);
  const latest = useLatest(handler);
  const exclusive = merged.exclusive === true;
  useEffect(() => {
    if (!client || !topic) return undefined;
    return client.subscribe(topic, (data, t) => latest.current?.(data, t), { exclusive });
  }, [client, topic, latest, exclusive]);
}

/**
 * Whether this tab leads the shared connection (one tab per endpoint in the browser; in
 * direct mode every tab). Re-renders only when that changes. For singleton work: polling,
 * syncing, analytics beacons.
 */
export function useIsLeader(options) {
  const { client } = useClient(options);
  const [leader, setLeader] = useState(false);
  useEffect(() => {
    if (!client) return undefined;
    setLeader(client.leader);
    const off = client.on("leader", setLeader);
    return () => {
      off();
      setLeader(false);
    };
  }, [client]);
  return leader;
}

/**
 * `{ isHealthy, health, connectionCount, lastHeartbeat, rttMs, state }` for the shared
 * connection. Listens to the status only: frames never re-render it.
 */
export function useConnectionHealth(options) {
  const { client } = useClient(options);
  const status = useStatus(client, null);
  return {
    isHealthy: status?.health === "healthy",
    health: status?.health ?? "unknown",
    connectionCount: status?.tabs ?? 0,
    lastHeartbeat: status?.lastHeartbeatAt ?? null,
    rttMs: status?.rttMs ?? null,
    state: status?.state ?? "connecting",
  };
}
