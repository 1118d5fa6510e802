// Compiled with `tsc --noEmit` by npm test against the packed and installed package: every
// export and option is used here, so a wrong or missing declaration fails the build.
import { connect, type Client, type ConnectOptions, type Stats, type Status, type TabmuxError } from "tabmux";
import { TabmuxProvider, useConnectionHealth, useSharedWebSocket, useTopic, type ConnectionHealth, type HookOptions } from "tabmux/react";
import tabmuxVite from "tabmux/vite";
import type { Plugin } from "vite";
import { createElement } from "react";

// The Vite plugin's type is Vite's own Plugin.
const plugin: Plugin = tabmuxVite();
void plugin;

const options: ConnectOptions = {
  url: "ws://127.0.0.1:8080/ws",
  workerUrl: "/shared-websocket-worker.js",
  mode: "auto",
  workerTimeoutMs: 10000,
  connectTimeoutMs: 10000,
  backoff: { initialMs: 1000, factor: 2, maxMs: 30000, jitter: "decorrelated", maxAttempts: null, minUptimeMs: 5000 },
  closeCodes: { 4001: "fatal", 1006: "retry-now", 4401: "refresh-token", 1012: "retry" },
  breaker: { failureThreshold: 3, resetTimeoutMs: 30000 },
  heartbeat: { intervalMs: 30000, timeoutMs: 10000, ping: '{"type":"ping"}', pong: { field: "type", value: "pong" } },
  token: { param: "token", url: "/token", pollMs: 10000, debounceMs: 250 },
  dedup: { key: ["/meta/in_reply_to", "/id"], capacity: 200 },
  sequence: { key: "/seq", resumeParam: "since" },
  topics: { key: "/topic", subscribe: '{"type":"sub","topic":"{topic}"}', unsubscribe: '{"type":"unsub","topic":"{topic}"}' },
  queue: { maxMessages: 1000, maxBytes: 1 << 20, ttlMs: 60000 },
  replay: { frames: 10, bytes: 1 << 20 },
  idleCloseMs: 0,
};

export async function useAll(): Promise<number> {
  const client: Client = await connect(options);
  const t: "shared" | "direct" = client.transport;
  const off: () => boolean = client.on("message", (data) => (typeof data === "string" ? data.length : data.byteLength));
  client.on("status", (s: Status) => s.state === "open" && s.breaker === "closed" && s.quality !== "poor");
  client.on("error", (e: TabmuxError) => e.code);
  client.on("gap", ({ from, to }) => to - from);
  await client.send("x");
  await client.send(new Uint8Array([1, 2]));
  const unsub: () => boolean = client.subscribe("prices", (data, topic) => topic);
  const frames = await client.history("prices");
  const stats: Stats = await client.stats();
  client.setToken("t");
  client.reconnect();
  client.close();
  off();
  unsub();
  return stats.framesIn + stats.durations.count + (stats.rtt.p95 ?? 0) + frames.length + t.length + client.clientId + client.tabId.length;
}

export function App() {
  const hookOptions: HookOptions = { useSharedWorker: false, onMessage: () => {}, onStatus: () => {}, onError: () => {} };
  const ws = useSharedWebSocket(hookOptions);
  useTopic("prices", (data, topic) => console.log(topic, data));
  const health: ConnectionHealth = useConnectionHealth();
  void ws.send("hi");
  const off = ws.subscribe("news", () => {});
  off();
  ws.reconnect();
  return createElement(TabmuxProvider, { options: { url: options.url } }, `${ws.status?.state} ${ws.transport} ${health.isHealthy} ${health.connectionCount} ${health.lastHeartbeat} ${health.rttMs} ${health.state} ${String(ws.lastMessage)}`);
}
