// The demo page: shows what tabmux reports. Everything it shows comes from the client's
// status, messages and stats, and the dev server's /control/stats.
import { connect } from "/js/index.js";

const $ = (id) => document.getElementById(id);
const direct = new URLSearchParams(location.search).has("direct");
$("direct").checked = direct;
$("direct").onchange = (e) => { location.search = e.target.checked ? "?direct" : ""; };

const scheme = location.protocol === "https:" ? "wss" : "ws";
// A short heartbeat so the round trip shows up quickly in the demo.
const client = await connect({
  url: `${scheme}://${location.host}/ws`,
  mode: direct ? "direct" : "auto",
  heartbeat: { intervalMs: 5000, timeoutMs: 3000 },
});
$("tab").textContent = client.tabId;
$("transport").textContent = client.transport;

let count = 0;
client.on("message", (data) => {
  count++;
  $("count").textContent = count;
  const li = document.createElement("li");
  li.textContent = typeof data === "string" ? data : `<binary ${data.byteLength} bytes>`;
  $("frames").prepend(li);
  while ($("frames").children.length > 50) $("frames").lastChild.remove();
});

function showStatus(s) {
  if (!s) return;
  $("state").textContent = s.state + (s.attempt ? ` (attempt ${s.attempt})` : "");
  $("state").dataset.state = s.state;
  $("tabs").textContent = s.tabs;
  $("rtt").textContent = s.rttMs == null ? "–" : `${s.rttMs} ms (${s.quality})`;
  $("breaker").textContent = s.breaker;
  $("last-close").textContent = s.lastClose ? `last close: ${s.lastClose.code} ${s.lastClose.reason}` : "";
}
showStatus(client.status);
client.on("status", showStatus);
client.on("error", (e) => console.warn(e.code, e.message));

async function poll() {
  try {
    const s = await (await fetch("/control/stats")).json();
    $("server").textContent = s.current;
    $("health").textContent = (await client.stats()).health;
  } catch { $("server").textContent = "?"; }
}
setInterval(poll, 1000);
poll();

$("send").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (text) client.send(JSON.stringify({ type: "chat", from: client.tabId, text }));
  $("text").value = "";
};
$("drop").onclick = () => fetch("/control/close?code=1012&reason=demo");
$("pause").onclick = () => fetch("/control/pause?ms=20000&drop=true");
$("reconnect").onclick = () => client.reconnect();
$("auth").onclick = () => fetch("/control/close?code=4401&reason=demo");
$("token").onclick = () => client.setToken(`demo-${Date.now()}`);
