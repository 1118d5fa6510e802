// A page for the end-to-end test of TabmuxProvider's token (tests/e2e/react.test.mjs).
// ?mode=get: the provider's token is a function (its calls counted in window.GETS);
// ?mode=value: a string, "first", that window.setAppToken(t) changes (null signs out);
// ?mode=late: no token (null) at first, and "late" set right after the first render, while
// the client is still connecting (as an auth SDK that signs in when the page loads).
// window.CLIENT is the hooks' client; the hook's state is shown in [data-testid=state].
import { createElement as h, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { TabmuxProvider, useSharedWebSocket } from "tabmux/react";

const params = new URLSearchParams(location.search);
const scheme = location.protocol === "https:" ? "wss" : "ws";
const options = { url: `${scheme}://${location.host}/ws/${params.get("channel") ?? "auth"}?auth=1`, heartbeat: false };
window.GETS = 0;
const getToken = async () => `g${++window.GETS}`;

function Probe() {
  const { status, client } = useSharedWebSocket({ filter: () => false });
  window.CLIENT = client;
  return h("b", { "data-testid": "state" }, status?.state ?? "none");
}

function App() {
  const late = params.get("mode") === "late";
  const [token, setToken] = useState(late ? null : "first");
  window.setAppToken = setToken;
  useEffect(() => {
    if (late) setToken("late");
  }, [late]);
  return h(TabmuxProvider, { options, token: params.get("mode") === "get" ? getToken : token }, h(Probe));
}

createRoot(document.getElementById("root")).render(h(App));
