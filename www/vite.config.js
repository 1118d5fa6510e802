import { defineConfig } from "vite";

// The worker files are copied into public/ by `npx tabmux copy-worker public/` before the
// build (scripts/demo-build.mjs), so they are served at the site root.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
