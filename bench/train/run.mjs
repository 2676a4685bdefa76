// The training benchmark: one `nerkit train` step (forward, backward, clipping, AdamW, dropout 0.1:
// StepRunner.step) against the same step in plain PyTorch, BERT-base and DistilBERT shapes,
// random weights and random batches of 8 x 128 tokens, the same thread count, each side in its own
// process. Reports tokens/s, the ratio, GFLOP/s achieved and peak memory.
// Usage (after `npm run build`): node bench/train/run.mjs [--threads 2] [--steps 6] [--no-torch]
//   [--only bert|distilbert]

import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const threads = Number(flag("threads", 2));
const steps = Number(flag("steps", 6));
const only = flag("only", undefined);
const python = process.env.PYTHON ?? "/usr/bin/python3";

const SHAPES = {
  bert: { modelType: "bert", layers: 12, hidden: 768, heads: 12, intermediate: 3072 },
  distilbert: { modelType: "distilbert", layers: 6, hidden: 768, heads: 12, intermediate: 3072 },
};

/** Multiply-adds ×2 of one training step: 3 × the forward pass (the backward is about twice it). */
function trainingFlops(shape, batch, tokens) {
  const perLayer = 4 * shape.hidden * shape.hidden + 2 * shape.hidden * shape.intermediate; // weights
  const forward = 2 * batch * tokens * (shape.layers * perLayer + 9 * shape.hidden) + 2 * 2 * batch * shape.layers * tokens * tokens * shape.hidden;
  return 3 * forward;
}

const rows = [];
for (const [name, shape] of Object.entries(SHAPES)) {
  if (only && only !== name) continue;
  const scratch = mkdtempSync(join(tmpdir(), "nerkit-train-bench-"));
  const out = join(scratch, "result.json");
  const ours = spawnSync(process.execPath, [join(here, "nerkit-side.mjs"), JSON.stringify({ ...shape, threads, steps, out })], { stdio: ["ignore", "inherit", "inherit"] });
  if (ours.status !== 0) throw new Error(`nerkit side failed for ${name}`);
  const nerkit = JSON.parse(readFileSync(out, "utf8"));
  let torch;
  if (!argv.includes("--no-torch")) {
    const torchOut = out.replace("result.json", "torch.json");
    const run = spawnSync(python, [join(here, "torch_train.py"), torchOut, "--layers", String(shape.layers), "--hidden", String(shape.hidden), "--heads", String(shape.heads), "--intermediate", String(shape.intermediate), "--threads", String(threads), "--steps", String(steps)], { stdio: ["ignore", "inherit", "inherit"] });
    if (run.status === 0) torch = JSON.parse(readFileSync(torchOut, "utf8"));
  }
  rmSync(scratch, { recursive: true, force: true });
  const flops = trainingFlops(shape, 8, 128);
  rows.push({ name, nerkit, torch, gflops: flops / nerkit.seconds_per_step / 1e9, torchGflops: torch ? flops / torch.seconds_per_step / 1e9 : undefined });
}

console.log(`\ntraining step, batch 8 x 128, ${threads} threads, median of ${steps} steps after 2 warm-up steps`);
const torchBuild = rows.find((r) => r.torch)?.torch.torch_build;
if (torchBuild) console.log(`PyTorch: ${torchBuild}`);
console.log("| shape | nerkit tokens/s | PyTorch tokens/s | nerkit / PyTorch | nerkit GFLOP/s | PyTorch GFLOP/s | nerkit peak RSS | PyTorch peak RSS |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const mib = (b) => (b === undefined ? "–" : `${Math.round(b / 2 ** 20)} MiB`);
  console.log(`| ${r.name} | ${r.nerkit.tokens_per_second.toFixed(0)} | ${r.torch?.tokens_per_second.toFixed(0) ?? "–"} | ${r.torch ? (r.nerkit.tokens_per_second / r.torch.tokens_per_second).toFixed(2) + "×" : "–"} | ${r.gflops.toFixed(1)} | ${r.torchGflops?.toFixed(1) ?? "–"} | ${mib(r.nerkit.peak_rss_bytes)} | ${mib(r.torch?.peak_rss_bytes)} |`);
}
void resolve;
