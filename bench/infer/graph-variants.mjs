// The three inference graphs of one BERT-base-shaped model, in one process on the same batches:
// float32 with ONNX Runtime's fused kernels (the default), float32 with standard operators only,
// and int8 (`--quantize int8`: the encoder's Linear layers quantized at load). Prints each batch
// shape's fastest call of each graph (runs interleaved, so bursts of other work on a shared machine
// hit all three alike), the speed-ups, and how far the other graphs' logits are from the fused
// graph's (max |difference|, as a share of the largest |logit|). Random token ids: the time does not
// depend on them. Left out: tokenizing and decoding (bench/infer/run.mjs times those).
// Behind RESULTS.md's int8 speed-up and fused-kernel figures.
// Usage (after `npm run build`): node bench/infer/graph-variants.mjs [--threads 2] [--repeat 5]
//   [--shapes 8x24,8x48,1x100] [make-model.mjs flags, e.g. --model-type distilbert]

import { join } from "node:path";
import { architectureOf, loadCheckpoint } from "../../dist/src/index.js";
import { TokenClassifierSession } from "../../dist/src/model/session.js";
import { benchModel, parseModelOptions } from "./make-model.mjs";

const argv = process.argv.slice(2);
const flags = { threads: "2", repeat: "5", shapes: "8x24,8x48,1x100" };
const modelArgs = [];
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (key in flags) flags[key] = argv[i + 1];
  else modelArgs.push(argv[i], argv[i + 1]);
}
const { options } = parseModelOptions(modelArgs);
const dir = benchModel(options);
const checkpoint = loadCheckpoint(dir);
const arch = architectureOf(checkpoint.config, join(dir, "config.json"));
const weights = (name) => checkpoint.weights.tensor(name);
const threads = Number(flags.threads);
const variants = [
  ["fused fp32", await TokenClassifierSession.create(arch, weights, { threads })],
  ["standard fp32", await TokenClassifierSession.create(arch, weights, { threads, fused: false })],
  ["int8", await TokenClassifierSession.create(arch, weights, { threads, quantize: "int8" })],
];

let seed = 7;
const nextId = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), 5 + (seed % 7990));
const shapes = flags.shapes.split(",").map((s) => s.split("x").map(Number));
console.log(`${options.modelType} L=${options.layers} H=${options.hidden}, ${threads} threads, fastest of ${flags.repeat} interleaved runs per batch\n`);
console.log("| batch (rows × tokens) | fused fp32 (ms) | standard fp32 (ms) | int8 (ms) | fused / standard speed-up | int8 / fused speed-up | standard max \\|Δlogit\\| / max \\|logit\\| | int8 max \\|Δlogit\\| / max \\|logit\\| |");
console.log("|---|---|---|---|---|---|---|---|");
for (const [rows, length] of shapes) {
  const batch = { rows, length, inputIds: BigInt64Array.from({ length: rows * length }, () => BigInt(nextId())), attentionMask: new BigInt64Array(rows * length).fill(1n) };
  const best = variants.map(() => Infinity);
  const logits = [];
  for (const [i, [, session]] of variants.entries()) logits[i] = await session.run(batch); // warm-up, and the logits compared
  for (let r = 0; r < Number(flags.repeat); r++) {
    for (const [i, [, session]] of variants.entries()) {
      const start = performance.now();
      await session.run(batch);
      best[i] = Math.min(best[i], performance.now() - start);
    }
  }
  const largest = logits[0].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const share = (other) => {
    let max = 0;
    for (let k = 0; k < other.length; k++) max = Math.max(max, Math.abs(other[k] - logits[0][k]));
    return `${((100 * max) / largest).toFixed(3)}%`;
  };
  console.log(`| ${rows} × ${length} | ${best[0].toFixed(1)} | ${best[1].toFixed(1)} | ${best[2].toFixed(1)} | ${(best[1] / best[0]).toFixed(2)}× | ${(best[0] / best[2]).toFixed(2)}× | ${share(logits[1])} | ${share(logits[2])} |`);
}
for (const [, session] of variants) await session.release();
