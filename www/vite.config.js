import { defineConfig } from "vite";

// The worker files are copied into public/ by `npx tabmux copy-worker public/` before the
// build (scripts/demo-build.mjs), so they are served at the site root. renders.html is a
// page for the end-to-end test that counts renders.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", rollupOptions: { input: ["index.html", "renders.html"] } },
});
