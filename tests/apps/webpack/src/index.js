// The app: connects through tabmux as a user's page does and records what it gets, for
// tests/e2e/webpack.test.mjs to read. `?direct` asks for direct mode.
import { connect } from "tabmux";

const direct = new URLSearchParams(location.search).has("direct");
window.APP = { transport: null, status: null, messages: [], error: null };
connect({ url: `ws://${location.host}/ws/webpack`, mode: direct ? "direct" : "auto", heartbeat: false }).then(
  (client) => {
    APP.transport = client.transport;
    APP.status = client.status;
    client.on("status", (s) => (APP.status = s));
    client.on("message", (m) => APP.messages.push(m));
  },
  (e) => (APP.error = `${e.code}: ${e.message}`),
);
