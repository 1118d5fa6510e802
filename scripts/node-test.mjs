// The arguments of every `node --test` run of `npm test`, the same on Node 20.11+, 22 and 24:
// an explicit list of files (from Node 21 a folder given to `node --test` is read as a glob
// pattern and matches no test file), one file at a time (`--test-concurrency`, Node ≥ 20.10:
// the files share one machine's browsers and ports), and a timeout per test
// (`--test-timeout`, Node ≥ 20.11) so a wait that hangs fails its test instead of the run.
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** The `*.test.mjs` files directly in `dir`, sorted, as absolute paths. */
export function testFiles(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".test.mjs")).sort();
  if (!files.length) throw new Error(`no *.test.mjs file in ${dir}`);
  return files.map((f) => join(dir, f));
}

/** `node` arguments that run `files` one at a time, each test bounded by `timeoutMs`. */
export function nodeTestArgs(files, timeoutMs) {
  return ["--test", "--test-concurrency=1", `--test-timeout=${timeoutMs}`, ...files];
}
