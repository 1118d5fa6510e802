// The root layout, a server component: the TabmuxProvider (a client component from
// tabmux/react) wraps every page. The socket's URL is read at request time from the
// server's environment (TABMUX_WS), so the layout renders per request.
import { TabmuxProvider } from "tabmux/react";

export const dynamic = "force-dynamic";

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <TabmuxProvider options={{ url: process.env.TABMUX_WS, heartbeat: false }}>{children}</TabmuxProvider>
      </body>
    </html>
  );
}
