// `nerkit train --group-by-length` against random batches on CoNLL-2003: bert-mini from random
// weights (the recipe of conll-e2e.sh: batch 32, lr 1e-3, warm-up 10%, 3 epochs, dropout 0.1) with
// an 8,000-piece vocabulary from `nerkit tokenizer train`, each arm with the same N seeds, the arms
// alternating so that a slow spell of the machine falls on both. Per run: the seconds spent in
// training steps per epoch (evaluation and checkpoint writes left out; with --max-steps, the steps
// run scaled to an epoch, which says nothing of speed: the grouped arm starts with its longest
// batch and the first steps warm ONNX Runtime up), the best dev F1 and the test F1 of the kept model. The padding saved is
// counted without training in test/length-groups.test.ts. Run-to-run noise is the standard
// deviation of F1 over the seeds of one arm; the arms differ within noise when the difference of
// their means is under twice the standard error of that difference.
// Usage (after `npm run build`): node bench/train/group-by-length.mjs [--seeds 3] [--epochs 3]
//   [--threads 2] [--max-steps N (a quick check: N steps per run, dev and test still scored)]

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prepare } from "../../dist/src/train/prepare.js";
import { train } from "../../dist/src/train/trainer.js";
import { evaluateSentences } from "../../dist/src/train/evaluate-model.js";
import { finishSteps } from "../../dist/src/infer/word-tagger.js";
import { readSafetensors } from "../../dist/src/model/checkpoint/safetensors.js";
import { parameterTable } from "../../dist/src/model/parameters.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const seeds = Number(flag("seeds", 3));
const epochs = Number(flag("epochs", 3));
const threads = Number(flag("threads", 2));
const maxSteps = flag("max-steps", undefined);
const data = join(process.env.NERKIT_SHARED ?? join(root, "..", "shared"), "data", "conll2003");
const work = mkdtempSync(join(tmpdir(), "nerkit-group-by-length-"));

/** One training run; the time of its steps only, measured between the trainer's events. */
async function run(seed, groupByLength) {
  const outDir = join(work, `run-${seed}-${groupByLength ? "grouped" : "random"}`);
  const options = { init: "bert-mini", tokenizerDir: join(work, "tokenizer"), train: join(data, "train.conll"), dev: join(data, "dev.conll"), test: join(data, "test.conll"), outDir, seed, classWeights: "none", batchSize: 32 };
  const prepared = prepare(options);
  const settings = {
    epochs, batchSize: 32, gradAccum: 1, maxSteps: maxSteps ? Number(maxSteps) : undefined, lr: 1e-3, warmupRatio: 0.1, weightDecay: 0.01, maxGradNorm: 1,
    seed, shuffle: true, groupByLength, metric: "f1", evalEvery: "epoch", saveEvery: "epoch", resume: false, overwrite: true, threads,
  };
  let stepSeconds = 0;
  let updates = 0;
  let mark = performance.now();
  let bestF1 = 0;
  for await (const event of train(prepared.inputs, settings)) {
    if (event.kind === "update") {
      stepSeconds += (performance.now() - mark) / 1000;
      updates = event.update;
    }
    if (event.kind === "evaluation") bestF1 = Math.max(bestF1, event.report.overall.f1);
    mark = performance.now();
  }
  const weights = readSafetensors(join(outDir, "model.safetensors"));
  const shapes = new Map(parameterTable(prepared.inputs.arch).map((p) => [p.name, p.shape]));
  const evaluation = evaluateSentences(prepared.inputs.arch, (n) => weights.tensor(n).data, shapes, prepared.test, { tokenizer: prepared.inputs.tokenizer, maxLength: prepared.inputs.maxLength, batchSize: 32, threads });
  const { report } = await finishSteps(evaluation, () => {});
  rmSync(outDir, { recursive: true, force: true });
  const stepsPerEpoch = Math.ceil(prepared.inputs.train.length / 32);
  return { seed, groupByLength, updates, secondsPerEpoch: (stepSeconds * stepsPerEpoch) / updates, devF1: bestF1, testF1: report.overall.f1 };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

try {
  const tokenizer = spawnSync(process.execPath, [join(root, "bin", "nerkit.js"), "tokenizer", "train", "--data", join(data, "train.conll"), "--vocab-size", "8000", "--out", join(work, "tokenizer")], { encoding: "utf8" });
  if (tokenizer.status !== 0) throw new Error(tokenizer.stderr);
  const results = [];
  console.log(`| seed | batches | steps | s per epoch (steps only) | best dev F1 | test F1 |`);
  console.log(`|---|---|---|---|---|---|`);
  for (let seed = 1; seed <= seeds; seed++) {
    for (const grouped of [false, true]) {
      const r = await run(seed, grouped);
      results.push(r);
      console.log(`| ${seed} | ${grouped ? "grouped by length" : "random"} | ${r.updates} | ${r.secondsPerEpoch.toFixed(1)} | ${r.devF1.toFixed(4)} | ${r.testF1.toFixed(4)} |`);
    }
  }
  console.log("");
  console.log(`| batches | s per epoch, mean | dev F1, mean ± sd | test F1, mean ± sd |`);
  console.log(`|---|---|---|---|`);
  const arms = [false, true].map((g) => results.filter((r) => r.groupByLength === g));
  arms.forEach((arm, i) => {
    const f = (key) => `${mean(arm.map((r) => r[key])).toFixed(4)} ± ${sd(arm.map((r) => r[key])).toFixed(4)}`;
    console.log(`| ${i ? "grouped by length" : "random"} | ${mean(arm.map((r) => r.secondsPerEpoch)).toFixed(1)} | ${f("devF1")} | ${f("testF1")} |`);
  });
  for (const key of ["devF1", "testF1"]) {
    const [a, b] = arms.map((arm) => arm.map((r) => r[key]));
    const difference = mean(b) - mean(a);
    const standardError = Math.sqrt(sd(a) ** 2 / a.length + sd(b) ** 2 / b.length);
    const verdict = Number.isNaN(standardError) ? "noise unknown with one seed" : Math.abs(difference) < 2 * standardError ? "within noise" : "outside noise";
    console.log(`${key}: grouped − random ${difference.toFixed(4)}, standard error ${standardError.toFixed(4)}: ${verdict}`);
  }
  const speed = mean(arms[0].map((r) => r.secondsPerEpoch)) / mean(arms[1].map((r) => r.secondsPerEpoch));
  console.log(`epoch time: random / grouped = ${speed.toFixed(2)}×`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
