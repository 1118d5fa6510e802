// The tabmux demo dashboard. Everything shown comes from tabmux (status, stats, frames)
// or from the dev server's /control/stats; the buttons ask the dev server for faults.
import { StrictMode, createElement as h, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { TabmuxProvider, useConnectionHealth, useIsLeader, useSharedWebSocket, useTopic } from "tabmux/react";

const direct = new URLSearchParams(location.search).has("direct");
const scheme = location.protocol === "https:" ? "wss" : "ws";
const options = {
  url: `${scheme}://${location.host}/ws`,
  useSharedWorker: !direct,
  heartbeat: { intervalMs: 5000, timeoutMs: 3000 },
  topics: { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' },
  replay: { frames: 20 },
};

const card = (label, value, testid, cls) => h("div", { className: "card" }, h("span", null, label), h("b", { "data-testid": testid, className: cls }, String(value)));
const stateClass = (s) => (s === "open" ? "ok" : ["connecting", "reconnecting", "offline"].includes(s) ? "warn" : "bad");

function Sparkline({ values, label }) {
  const w = 300, hgt = 60;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * w},${hgt - (v / max) * (hgt - 4) - 2}`).join(" ");
  return h("div", null, h("h2", null, `${label} (max ${max})`),
    h("svg", { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}` }, h("polyline", { points: pts, fill: "none", stroke: "#0969da", strokeWidth: 2 })));
}

function useServerSockets() {
  const [n, setN] = useState("…");
  useEffect(() => {
    const t = setInterval(async () => {
      try { setN((await (await fetch("/control/stats")).json()).current); } catch { setN("?"); }
    }, 1000);
    return () => clearInterval(t);
  }, []);
  return n;
}

function TopicFeed({ topic }) {
  const [frames, setFrames] = useState([]);
  useTopic(topic, (data) => setFrames((f) => [data, ...f].slice(0, 8)));
  return h("div", { "data-testid": `topic-${topic}` }, h("h2", null, `topic “${topic}” (${frames.length})`),
    h("ol", null, frames.map((f, i) => h("li", { key: i }, f))));
}

// A "notify" frame (the dev server's /control/notify) as a desktop-style toast: the handler is
// exclusive, so one tab of the browser shows it, however many are open.
function Toasts() {
  const [toasts, setToasts] = useState([]);
  useSharedWebSocket({
    exclusive: true,
    filter: (d) => typeof d === "string" && d.includes('"type":"notify"'),
    onMessage: (d) => {
      const toast = { id: Math.random(), text: JSON.parse(d).text };
      setToasts((t) => [...t, toast]);
      setTimeout(() => setToasts((t) => t.filter((x) => x !== toast)), 6000);
    },
  });
  return h("div", { className: "toasts" }, toasts.map((t) => h("div", { key: t.id, className: "toast", "data-testid": "toast" }, "🔔 ", t.text)));
}

function Dashboard() {
  const [timeline, setTimeline] = useState([]);
  const [chat, setChat] = useState([]);
  const [fps, setFps] = useState([]);
  const [rtts, setRtts] = useState([]);
  const [stats, setStats] = useState(null);
  const [topics, setTopics] = useState({ prices: true, news: false });
  const [handlerGen, setHandlerGen] = useState(0);
  const count = useRef(0);
  const seen = useRef(0);
  // A new handler on every render (and on "swap handler"): it must never reconnect.
  const onMessage = (data) => {
    count.current++;
    seen.current = handlerGen;
    if (typeof data === "string" && data.includes('"type":"chat"')) setChat((c) => [JSON.parse(data), ...c].slice(0, 12));
  };
  const onStatus = useCallback((s) => {
    setTimeline((t) => (t[0]?.state === s.state ? t : [{ state: s.state, at: new Date().toLocaleTimeString() }, ...t].slice(0, 12)));
    if (s.rttMs != null) setRtts((r) => [...r, s.rttMs].slice(-40));
  }, []);
  const ws = useSharedWebSocket({ onMessage, onStatus });
  const health = useConnectionHealth();
  const leader = useIsLeader();
  const serverSockets = useServerSockets();
  useEffect(() => {
    const t = setInterval(async () => {
      setFps((f) => [...f, count.current].slice(-40));
      count.current = 0;
      if (ws.client) setStats(await ws.client.stats().catch(() => null));
    }, 1000);
    return () => clearInterval(t);
  }, [ws.client]);
  const s = ws.status;
  const [text, setText] = useState("");
  const post = (path) => fetch(path);
  return h("div", null,
    h("h1", null, "tabmux ", h("small", null, "one WebSocket for every tab")),
    h(Toasts),
    h("p", { className: "hint" }, "Open this page in several tabs: they share one socket; the server's socket count stays at 1. A notification shows in one tab, the leader."),
    h("div", { className: "cards" },
      card("tab", ws.client?.tabId ?? "…", "tab"),
      card("transport", ws.transport ?? "…", "transport"),
      card("state", health.state, "state", stateClass(health.state)),
      card("tabs sharing", health.connectionCount, "tabs"),
      card("server sockets", serverSockets, "server"),
      card("health", health.health, "health", health.isHealthy ? "ok" : "warn"),
      card("round trip", health.rttMs == null ? "–" : `${health.rttMs} ms`, "rtt"),
      card("breaker", s?.breaker ?? "…", "breaker", s?.breaker === "closed" ? "ok" : "bad"),
      card("handler", `#${handlerGen}`, "handler"),
      card("leader", leader ? "this tab" : "another tab", "leader", leader ? "ok" : "")),
    h("div", { className: "controls" },
      h("form", { onSubmit: (e) => { e.preventDefault(); if (text.trim()) ws.send(JSON.stringify({ type: "chat", from: ws.client?.tabId, text })); setText(""); } },
        h("input", { value: text, onChange: (e) => setText(e.target.value), placeholder: "say something to every tab", "data-testid": "chat-input" }),
        h("button", { "data-testid": "chat-send" }, "send")),
      h("button", { onClick: () => post(`/control/notify?text=${encodeURIComponent(`Order shipped at ${new Date().toLocaleTimeString()}`)}`), "data-testid": "notify" }, "notify (one toast)"),
      h("button", { onClick: () => post("/control/close?code=1012&reason=demo"), "data-testid": "drop" }, "drop all sockets"),
      h("button", { onClick: () => post("/control/close?code=4401&reason=demo"), "data-testid": "auth" }, "close with 4401"),
      h("button", { onClick: () => post("/control/pause?ms=20000&drop=true"), "data-testid": "pause" }, "stop server 20 s"),
      h("button", { onClick: ws.reconnect, "data-testid": "reconnect" }, "reconnect"),
      h("button", { onClick: () => setHandlerGen((g) => g + 1), "data-testid": "swap" }, "swap handler"),
      ...["prices", "news"].map((t) => h("label", { key: t }, h("input", { type: "checkbox", checked: topics[t], "data-testid": `toggle-${t}`, onChange: (e) => setTopics((x) => ({ ...x, [t]: e.target.checked })) }), ` ${t}`)),
      h("label", null, h("input", { type: "checkbox", checked: direct, onChange: (e) => { location.search = e.target.checked ? "?direct" : ""; } }), " direct mode")),
    h("div", { className: "grid" },
      h(Sparkline, { values: fps, label: "frames per second (this tab)" }),
      h(Sparkline, { values: rtts, label: "round trip, ms" }),
      h("div", null, h("h2", null, "state timeline"), h("ol", { "data-testid": "timeline" }, timeline.map((e, i) => h("li", { key: i }, `${e.at} ${e.state}`)))),
      h("div", { className: "bars" }, h("h2", null, "close codes (last 100)"),
        Object.entries(stats?.closeCodes ?? {}).map(([code, n]) => h("div", { key: code }, code, h("i", { style: { width: `${n * 8}px` } }), n))),
      ...Object.entries(topics).filter(([, on]) => on).map(([t]) => h(TopicFeed, { key: t, topic: t })),
      h("div", null, h("h2", null, "chat"), h("ul", { "data-testid": "chat" }, chat.map((m, i) => h("li", { key: i }, `${m.from}: ${m.text}`))))));
}

createRoot(document.getElementById("root")).render(h(StrictMode, null, h(TabmuxProvider, { options }, h(Dashboard))));
