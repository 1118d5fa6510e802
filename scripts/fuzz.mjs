// The core's coverage-guided fuzz targets (fuzz/, cargo-fuzz + libFuzzer on stable Rust):
// `engine` drives the engine with input sequences and checks every invariant after each step;
// `options` feeds text to the options parser, the topic templates and the token redaction.
// `npm test` runs each for TABMUX_FUZZ_SECONDS (default 30); `npm run fuzz` for 300 by default.
// The corpus found so far is kept in fuzz/corpus (not committed); a failing input is written
// to fuzz/artifacts/<target>/ and the command that replays it is printed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureCargoFuzz, env, root } from "./bootstrap.mjs";

const TARGETS = ["engine", "options"];

export function fuzz(seconds) {
  ensureCargoFuzz();
  const summary = [];
  for (const target of TARGETS) {
    const corpus = join(root, "fuzz", "corpus", target);
    mkdirSync(corpus, { recursive: true });
    const seeds = join(root, "fuzz", "seeds", target);
    const args = ["fuzz", "run", "--sanitizer", "none", "-O", target, corpus];
    if (existsSync(seeds)) args.push(seeds);
    // -timeout: one input running 20 s is a hang, reported like a crash.
    args.push("--", `-max_total_time=${seconds}`, "-max_len=4096", "-timeout=20", "-print_final_stats=1");
    console.log(`$ cargo ${args.join(" ")}`);
    const r = spawnSync("cargo", args, { env, cwd: root, encoding: "utf8", maxBuffer: 1 << 30 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) {
      // Everything libFuzzer said, the failing input and how to replay it among it.
      console.error(out);
      console.error(`tabmux: fuzz target \`${target}\` failed (exit ${r.status ?? r.signal})`);
      process.exit(r.status || 1);
    }
    const runs = out.match(/stat::number_of_executed_units:\s*(\d+)/)?.[1];
    const cov = [...out.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)].at(-1);
    summary.push(`${target}: ${runs} inputs in ${seconds} s, no failure (coverage ${cov?.[1]} edges, ${cov?.[3]} inputs in the corpus)`);
  }
  for (const line of summary) console.log(`fuzz ${line}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fuzz(Number(process.env.TABMUX_FUZZ_SECONDS ?? 300));
}
