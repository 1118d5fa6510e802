// `node scripts/check-docs.mjs` (run by `npm test`): the docs' links resolve and their code compiles.
// 1. Every relative link in README.md and docs/**/*.md points at a file that exists, and its
//    `#anchor`, if any, at a heading of that file (GitHub's slugs) or an `<a id>` in it.
// 2. Every ```ts / ```tsx / ```typescript block is type-checked, each as its own module, with
//    the repo's TypeScript against the package's own declarations ("tabmux" → js/index.d.ts,
//    "tabmux/react" → react/index.d.ts, "tabmux/vite" → vite/index.d.ts; strict, react-jsx).
//    Every ```js / ```jsx / ```javascript block is parsed: a syntax error fails it.
//    A block whose first line is `// not-checked: <reason>` is skipped (and counted).
// Prints each failure as file:line and a summary; exits 1 unless everything passes.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** README.md and every .md under docs/, as paths relative to the root. */
function docFiles() {
  const out = ["README.md"];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = join(dir, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith(".md")) out.push(rel);
    }
  };
  if (existsSync(join(root, "docs"))) walk("docs");
  return out;
}

const FENCE = /^(`{3,}|~{3,})\s*([^\s`]*)/;

/** Splits a markdown file into its lines outside code fences and its fenced blocks. */
function parse(text) {
  const lines = text.split("\n");
  const prose = []; // [lineNo, text]
  const blocks = []; // { lang, start (line of the first code line, 1-based), code }
  let open = null;
  lines.forEach((line, i) => {
    if (open) {
      // A closing fence: the same character, at least as long, nothing after it.
      const close = line.trim();
      if (close.startsWith(open.marker) && /^(`+|~+)$/.test(close) && close[0] === open.marker[0]) {
        blocks.push({ lang: open.lang, start: open.start, code: open.body.join("\n") });
        open = null;
      } else {
        open.body.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      }
      return;
    }
    // Fences inside list items are indented: any indentation opens one.
    const m = FENCE.exec(line.trimStart());
    if (m) {
      open = { marker: m[1], lang: m[2].toLowerCase(), start: i + 2, body: [], indent: line.length - line.trimStart().length };
      return;
    }
    prose.push([i + 1, line]);
  });
  if (open) blocks.push({ lang: open.lang, start: open.start, code: open.body.join("\n"), unclosed: true });
  return { prose, blocks };
}

/** Inline code spans removed (links inside them are not links). */
const withoutCode = (line) => line.replace(/(`+)[^`]*?\1/g, (s) => " ".repeat(s.length));

/** GitHub's heading slug (github-slugger): lowercase, punctuation dropped, spaces to hyphens. */
function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The text a heading renders as: markup dropped, link and code text kept. */
function headingText(raw) {
  return raw
    .replace(/\s+#+\s*$/, "")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/`/g, "")
    .replace(/\*\*|__|\*/g, "")
    .trim();
}

const anchorCache = new Map();

/** Every anchor a markdown file offers: its headings' slugs (numbered when repeated) and ids. */
function anchorsOf(file) {
  if (anchorCache.has(file)) return anchorCache.get(file);
  const { prose } = parse(readFileSync(file, "utf8"));
  const anchors = new Set();
  const seen = new Map();
  prose.forEach(([, line], i) => {
    let text = null;
    const atx = /^ {0,3}(#{1,6})\s+(.*)$/.exec(line);
    if (atx) text = atx[2];
    // Setext: a line of text followed by === or ---.
    const next = prose[i + 1];
    if (!text && next && next[0] === prose[i][0] + 1 && /^ {0,3}(=+|-+)\s*$/.test(next[1]) && line.trim() && !/^\s*[-*>|]/.test(line)) {
      text = line;
    }
    if (text !== null) {
      const base = slug(headingText(text));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n ? `${base}-${n}` : base);
    }
    for (const m of line.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  });
  anchorCache.set(file, anchors);
  return anchors;
}

/** The link targets on a line: inline links and images, and reference definitions. */
function targetsOf(line) {
  const out = [];
  const text = withoutCode(line);
  // [text](target "title") and ![alt](target); the text may hold one level of brackets.
  for (const m of text.matchAll(/!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) {
    out.push(m[1].replace(/^<|>$/g, ""));
  }
  const def = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
  if (def) out.push(def[1].replace(/^<|>$/g, ""));
  // HTML: <a href="…">, <img src="…">.
  for (const m of text.matchAll(/<(?:a|img)\s[^>]*?\b(?:href|src)="([^"]*)"/gi)) out.push(m[1]);
  return out;
}

/** `%20` and the like decoded; a malformed escape is kept as written (and will not match). */
function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function checkLinks(files) {
  const failures = [];
  let ok = 0;
  for (const rel of files) {
    const file = join(root, rel);
    const { prose } = parse(readFileSync(file, "utf8"));
    for (const [lineNo, line] of prose) {
      for (const target of targetsOf(line)) {
        // Absolute URLs (https:, mailto:, …) and protocol-relative ones are not ours to check.
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
        const hash = target.indexOf("#");
        const path = decode(hash < 0 ? target : target.slice(0, hash));
        const anchor = hash < 0 ? null : decode(target.slice(hash + 1));
        const dest = path ? (path.startsWith("/") ? join(root, path) : resolve(dirname(file), path)) : file;
        const where = `${rel}:${lineNo}`;
        if (!existsSync(dest)) {
          failures.push(`${where}: broken link ${target}: ${relative(root, dest)} does not exist`);
          continue;
        }
        if (anchor !== null && anchor !== "") {
          if (!dest.endsWith(".md")) {
            failures.push(`${where}: link ${target}: an anchor into a file that is not markdown`);
            continue;
          }
          if (!anchorsOf(dest).has(anchor)) {
            failures.push(`${where}: broken link ${target}: no heading #${anchor} in ${relative(root, dest)}`);
            continue;
          }
        }
        ok++;
      }
    }
  }
  return { ok, failures };
}

const TS_LANGS = { ts: "ts", typescript: "ts", tsx: "tsx" };
const JS_LANGS = { js: "js", javascript: "js", jsx: "jsx", mjs: "js" };
const OPT_OUT = /^\s*\/\/\s*not-checked:\s*\S/;

function loadTypeScript() {
  const path = join(root, "node_modules", "typescript");
  if (!existsSync(path)) return null;
  return createRequire(join(root, "package.json"))("typescript");
}

function checkBlocks(files) {
  const failures = [];
  const blocks = [];
  let skipped = 0;
  for (const rel of files) {
    const { blocks: found } = parse(readFileSync(join(root, rel), "utf8"));
    for (const b of found) {
      if (b.unclosed) failures.push(`${rel}:${b.start - 1}: a code block that is never closed`);
      const kind = TS_LANGS[b.lang] ?? JS_LANGS[b.lang];
      if (!kind) continue;
      if (OPT_OUT.test(b.code.split("\n")[0] ?? "")) {
        skipped++;
        continue;
      }
      blocks.push({ rel, ...b, kind, typed: b.lang in TS_LANGS });
    }
  }
  const ts = loadTypeScript();
  if (!ts) {
    failures.push("node_modules/typescript is missing: run npm install (the code blocks cannot be checked)");
    return { typed: 0, parsed: 0, skipped, failures };
  }
  const dir = mkdtempSync(join(tmpdir(), "tabmux-docs-"));
  try {
    const byFile = new Map();
    blocks.forEach((b, i) => {
      const name = join(dir, `block-${String(i + 1).padStart(3, "0")}.${b.kind}`);
      writeFileSync(name, b.code + "\n");
      byFile.set(resolve(name), b);
    });
    const types = join(root, "node_modules", "@types");
    const options = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      moduleDetection: ts.ModuleDetectionKind.Force,
      jsx: ts.JsxEmit.ReactJSX,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      allowJs: true,
      checkJs: false,
      typeRoots: [types],
      types: existsSync(join(types, "react")) ? ["react"] : [],
      baseUrl: root,
      paths: {
        tabmux: ["js/index.d.ts"],
        "tabmux/react": ["react/index.d.ts"],
        "tabmux/vite": ["vite/index.d.ts"],
        // The blocks live in a temp folder: React's types come from the repo's node_modules.
        react: ["node_modules/@types/react/index.d.ts"],
        "react/jsx-runtime": ["node_modules/@types/react/jsx-runtime.d.ts"],
      },
    };
    const program = ts.createProgram([...byFile.keys()], options);
    const report = (d) => {
      const b = d.file && byFile.get(resolve(d.file.fileName));
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (!b) {
        failures.push(`${d.file ? relative(root, d.file.fileName) : "tsc"}: TS${d.code}: ${text}`);
        return;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      failures.push(`${b.rel}:${b.start + line}: TS${d.code}: ${text} (in a \`\`\`${b.lang} block)`);
    };
    program.getOptionsDiagnostics().forEach(report);
    program.getGlobalDiagnostics().forEach(report);
    for (const [file, b] of byFile) {
      const source = program.getSourceFile(file);
      program.getSyntacticDiagnostics(source).forEach(report);
      if (b.typed) program.getSemanticDiagnostics(source).forEach(report);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const typed = blocks.filter((b) => b.typed).length;
  return { typed, parsed: blocks.length - typed, skipped, failures };
}

const files = docFiles();
const links = checkLinks(files);
const code = checkBlocks(files);
const failures = [...links.failures, ...code.failures];
for (const f of failures) console.error(`docs: ${f}`);
const summary =
  `docs: ${links.ok} links ok, ${code.typed} code blocks type-checked, ${code.parsed} parsed` +
  (code.skipped ? `, ${code.skipped} not checked (opted out)` : "") +
  ` in ${files.length} files`;
if (failures.length) {
  console.error(`${summary}; ${failures.length} failure${failures.length === 1 ? "" : "s"}`);
  process.exit(1);
}
console.log(summary);
