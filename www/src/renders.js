// A page for counting renders (tests/e2e/react.test.mjs): each component counts its own
// renders in window.RENDERS. No StrictMode here, so one render is one render.
import { createElement as h } from "react";
import { createRoot } from "react-dom/client";
import { TabmuxProvider, useConnectionHealth, useSharedWebSocket, useTopic } from "tabmux/react";

const scheme = location.protocol === "https:" ? "wss" : "ws";
const channel = new URLSearchParams(location.search).get("channel") ?? "renders";
const options = { url: `${scheme}://${location.host}/ws/${channel}`, heartbeat: false };
const RENDERS = (window.RENDERS = { badge: 0, statusOnly: 0, filtered: 0, everything: 0, topic: 0 });
window.SEEN = { filtered: [], everything: 0, topic: 0 };

function HealthBadge() {
  RENDERS.badge++;
  const { state, connectionCount } = useConnectionHealth();
  return h("b", { "data-testid": "badge" }, `${state} ${connectionCount}`);
}

function StatusOnly() {
  RENDERS.statusOnly++;
  const { status } = useSharedWebSocket({ filter: () => false });
  return h("i", { "data-testid": "status-only" }, status?.state ?? "none");
}

// json: true with a filter: renders only for the frames whose seq is a multiple of 100.
function Filtered() {
  RENDERS.filtered++;
  const { lastMessage } = useSharedWebSocket({ json: true, filter: (m) => m.seq % 100 === 0, onMessage: (m) => SEEN.filtered.push(m.seq) });
  return h("span", { "data-testid": "filtered" }, String(lastMessage?.seq ?? "none"));
}

function Everything() {
  RENDERS.everything++;
  const { lastMessage } = useSharedWebSocket({ onMessage: () => SEEN.everything++ });
  return h("span", { "data-testid": "everything" }, String(lastMessage?.length ?? 0));
}

function Topic() {
  RENDERS.topic++;
  useTopic("prices", () => SEEN.topic++);
  return null;
}

createRoot(document.getElementById("root")).render(
  h(TabmuxProvider, { options: { ...options, topics: { key: "/topic", subscribe: '{"type":"subscribe","topic":"{topic}"}', unsubscribe: '{"type":"unsubscribe","topic":"{topic}"}' } } },
    h(HealthBadge), h(StatusOnly), h(Filtered), h(Everything), h(Topic)),
);
