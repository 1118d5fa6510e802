// Compiled with `tsc --noEmit` by npm test against the packed and installed package: every
// export and option is used here, so a wrong or missing declaration fails the build.
import { connect, type Client, type ConnectOptions, type Stats, type Status, type TabmuxError } from "tabmux";
import { TabmuxProvider, useConnectionHealth, useIsLeader, useSharedWebSocket, useTopic, type ConnectionHealth, type HookOptions } from "tabmux/react";
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
  json: false,
  protocols: ["graphql-transport-ws"],
  debug: false,
  logger: (e) => (e.event === "retry" ? e.delayMs + e.attempt : e.event === "close" ? e.class : e.event),
  serverPing: { match: { field: "type", value: "ping" }, reply: '{"type":"pong"}' },
};
const presets: ConnectOptions[] = [
  { url: options.url, serverPing: "socket.io" },
  { url: options.url, serverPing: { match: "2", reply: "3" } },
  // @ts-expect-error not a preset
  { url: options.url, serverPing: "stomp" },
  // @ts-expect-error a reply is needed
  { url: options.url, serverPing: { match: "2" } },
  { url: options.url, protocols: "graphql-transport-ws" },
  // @ts-expect-error protocols are strings
  { url: options.url, protocols: [1] },
  // @ts-expect-error a close event has no delayMs
  { url: options.url, logger: (e) => e.event === "close" && e.delayMs },
];

interface Order {
  id: string;
  qty: number;
}

// json: true with a named type: handlers get `Order`, not a string.
export async function useJson(): Promise<number> {
  const orders = await connect<Order>({ url: options.url, json: true });
  orders.on("message", (o) => o.qty.toFixed());
  orders.subscribe("orders", (o, topic) => o.id + topic);
  orders.on("error", (e) => (e.code === "bad-json" ? e.frame : null));
  orders.on("error", (e) => {
    const missed: number | undefined = e.code === "lagged" ? e.missed : undefined;
    // @ts-expect-error missed is a number, not a string
    const wrong: string | undefined = e.missed;
    return [missed, wrong];
  });
  await orders.sendJson({ id: "a", qty: 1 });
  // @ts-expect-error the parsed value is an Order: it has no `price`
  orders.on("message", (o) => o.price);
  // @ts-expect-error an Order is not a string
  orders.subscribe("orders", (o: string) => o.length);
  // @ts-expect-error a type argument needs json: true (without it handlers get raw frames)
  await connect<Order>({ url: options.url });
  // Without json the frame is a string or an ArrayBuffer, and must be narrowed.
  const raw = await connect({ url: options.url });
  // @ts-expect-error a raw frame may be an ArrayBuffer
  raw.on("message", (d) => d.toUpperCase());
  raw.on("message", (d) => (typeof d === "string" ? d.toUpperCase() : d.byteLength));
  // json: true without a type argument: `unknown`, to be narrowed before use.
  const loose = await connect({ url: options.url, json: true });
  // @ts-expect-error unknown must be narrowed
  loose.on("message", (d) => d.qty);
  // @ts-expect-error json is a boolean
  await connect({ url: options.url, json: "yes" });
  const history: (string | ArrayBuffer)[] = await orders.history("orders");
  return history.length + presets.length;
}

export async function useAll(): Promise<number> {
  const client: Client = await connect(options);
  const t: "shared" | "direct" = client.transport;
  const off: () => boolean = client.on("message", (data) => (typeof data === "string" ? data.length : data.byteLength));
  client.on("status", (s: Status) => s.state === "open" && s.breaker === "closed" && s.quality !== "poor" && s.protocol?.length);
  client.on("error", (e: TabmuxError) => e.code);
  client.on("gap", ({ from, to }) => to - from);
  const leads: boolean = client.leader;
  client.on("leader", (l: boolean) => l && leads);
  client.on("message", (data) => data, { exclusive: true });
  client.subscribe("alerts", (data, topic) => topic, { exclusive: true });
  // @ts-expect-error exclusive is a boolean
  client.on("message", () => {}, { exclusive: "yes" });
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
  useTopic("alerts", (data) => console.log(data), { exclusive: true });
  const leads: boolean = useIsLeader();
  const notify = useSharedWebSocket({ exclusive: true, onMessage: () => leads });
  void notify.lastMessage;
  const health: ConnectionHealth = useConnectionHealth();
  void ws.send("hi");
  const off = ws.subscribe("news", () => {});
  off();
  ws.reconnect();
  // A status-only consumer, and a typed JSON hook with a filter.
  const quiet = useSharedWebSocket({ filter: () => false });
  const orders = useSharedWebSocket<Order>({ json: true, filter: (o) => o.qty > 0, onMessage: (o) => o.id });
  const qty: number | undefined = orders.lastMessage?.qty;
  void orders.sendJson({ id: "b", qty });
  useTopic<Order>("orders", (o, topic) => o.id + topic, { json: true });
  // @ts-expect-error the filter gets an Order: it has no `price`
  useSharedWebSocket<Order>({ json: true, filter: (o) => o.price > 0 });
  // @ts-expect-error lastMessage is an Order or null
  const wrong: string | null = orders.lastMessage;
  // @ts-expect-error useTopic's handler gets the hook's type
  useTopic<Order>("orders", (o: string) => o);
  void wrong;
  return createElement(TabmuxProvider, { options: { url: options.url } }, `${ws.status?.state} ${ws.transport} ${health.isHealthy} ${health.connectionCount} ${health.lastHeartbeat} ${health.rttMs} ${health.state} ${String(ws.lastMessage)} ${quiet.status?.health} ${qty}`);
}
