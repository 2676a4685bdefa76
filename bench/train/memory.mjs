// The memory estimate that `nerkit train` prints before training, against the peak RSS it prints at
// the end (process.resourceUsage().maxRSS), on CoNLL-2003 with a vocabulary from `nerkit tokenizer
// train`, for bert-tiny and bert-mini at two batch sizes. --full runs one shuffled epoch per row (slow:
// what a user's run does, with the growth of a long run). By default each run takes 3 steps on the
// training file sorted longest sentence first (--no-shuffle), so its first batch is the largest one
// of any epoch, and scores dev once: the peak of one largest batch in a minute, without that growth.
// Usage (after `npm run build`): node bench/train/memory.mjs [--full] [--threads 2]
//   [--sizes bert-tiny,bert-mini] [--batches 8,32]

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const argv = process.argv.slice(2);
const full = argv.includes("--full");
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = flag("threads", "2");
const sizes = flag("sizes", "bert-tiny,bert-mini").split(",");
const batches = flag("batches", "8,32").split(",");
const data = join(process.env.NERKIT_SHARED ?? join(root, "..", "shared"), "data", "conll2003");
const work = mkdtempSync(join(tmpdir(), "nerkit-memory-bench-"));

function nerkit(args) {
  const run = spawnSync(process.execPath, [join(root, "bin", "nerkit.js"), ...args], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`nerkit ${args.join(" ")} failed:\n${run.stderr}`);
  return run.stderr;
}

try {
  nerkit(["tokenizer", "train", "--data", join(data, "train.conll"), "--vocab-size", "8000", "--out", join(work, "tokenizer")]);
  let train = join(data, "train.conll");
  if (!full) {
    const sentences = readFileSync(train, "utf8").split(/\n\s*\n/).filter((s) => s.trim() !== "");
    sentences.sort((a, b) => b.trim().split("\n").length - a.trim().split("\n").length);
    train = join(work, "train-longest-first.conll");
    writeFileSync(train, sentences.map((s) => s.trim()).join("\n\n") + "\n");
  }
  console.log(`| model | batch | run | estimate | peak RSS | estimate / peak |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const size of sizes) {
    for (const batch of batches) {
      const schedule = full ? ["--epochs", "1"] : ["--max-steps", "3", "--no-shuffle"];
      const args = ["train", "--init", size, "--tokenizer", join(work, "tokenizer"), "--train", train, "--dev", join(data, "dev.conll"), "--out", join(work, "out"), "--overwrite", "--batch-size", batch, "--lr", "1e-3", "--threads", threads, ...schedule];
      const stderr = nerkit(args);
      const line = /peak memory ([\d.]+) GiB \(estimated ([\d.]+) GiB\)/.exec(stderr);
      if (!line) throw new Error(`no peak memory line:\n${stderr}`);
      const [peak, estimate] = [Number(line[1]), Number(line[2])];
      console.log(`| ${size} | ${batch} | ${full ? "1 epoch, shuffled" : "3 steps, longest batch first"} | ${estimate.toFixed(2)} GiB | ${peak.toFixed(2)} GiB | ${(estimate / peak).toFixed(2)} |`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
