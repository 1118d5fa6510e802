"use client";
// The page: the shared connection through the provider's options; what it shows (and
// window.APP) is what tests/e2e/next.test.mjs reads.
import { useEffect, useState } from "react";
import { useSharedWebSocket } from "tabmux/react";

export default function Page() {
  const [messages, setMessages] = useState([]);
  const ws = useSharedWebSocket({ onMessage: (m) => setMessages((all) => [...all, m]) });
  useEffect(() => {
    window.APP = { transport: ws.transport, status: ws.status, messages, error: ws.error?.message ?? null };
  });
  return (
    <main>
      <p>
        state <b data-testid="state">{ws.status?.state ?? "…"}</b>, transport <b data-testid="transport">{ws.transport ?? "…"}</b>,
        tabs <b data-testid="tabs">{ws.status?.tabs ?? "…"}</b>, frames <b data-testid="frames">{messages.length}</b>
      </p>
    </main>
  );
}
