import type { Plugin } from "vite";

/** Serves the tabmux worker files in `vite` dev, emits them in `vite build`, and keeps tabmux
 * out of dependency pre-bundling. `plugins: [tabmux()]` in vite.config.js. */
export default function tabmux(): Plugin;
