// Nothing tabmux-specific: the worker files are in public/ (tabmux copy-worker public/).
// turbopack.root: this app is its own workspace (it sits inside the tabmux checkout).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export default { turbopack: { root: dirname(fileURLToPath(import.meta.url)) } };
