import { defineConfig } from "vite";
import tabmux from "tabmux/vite";

// tabmux/vite serves the worker files in `vite` (dev) and emits them in `vite build`.
// TABMUX_DEVSERVER (e.g. http://127.0.0.1:8080): in `vite` dev, where /ws and /control go
// (the tabmux dev server); the built demo is served by that server itself.
const devserver = process.env.TABMUX_DEVSERVER;

// renders.html and auth.html are pages for the end-to-end tests (renders, the provider's token).
export default defineConfig({
  plugins: [tabmux()],
  server: devserver ? { proxy: { "/ws": { target: devserver, ws: true }, "/control": devserver } } : {},
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", rollupOptions: { input: ["index.html", "renders.html", "auth.html"] } },
});
