// nerkit's side of the training benchmark, in a process of its own: random weights of the given
// shape, dropout 0.1, random batches of 8 x 128, timing StepRunner.step (the gradient graph, then
// the AdamW update in place, slice by slice).
// Peak memory is the kernel's high-water mark (process.resourceUsage().maxRSS, as getrusage's
// ru_maxrss on the PyTorch side), which includes the peak inside a step; sampling the resident set
// between steps missed it.
import { writeFileSync } from "node:fs";
import { StepRunner } from "../../dist/src/train/step-runner.js";
import { parameterTable } from "../../dist/src/model/parameters.js";
import { initialise } from "../../dist/src/train/initial-weights.js";
import { SeededRandom } from "../../dist/src/train/random.js";

const o = JSON.parse(process.argv[2]);
const labels = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"];
const arch = {
  modelType: o.modelType, hidden: o.hidden, heads: o.heads, layers: o.layers, intermediate: o.intermediate,
  vocabSize: 8000, maxPositions: 512, typeVocabSize: o.modelType === "bert" ? 2 : 0, layerNormEps: 1e-12, padTokenId: 0,
  activation: "gelu", labels, initializerRange: 0.02, dropout: { hidden: 0.1, attention: 0.1, classifier: 0.1 },
};
const random = new SeededRandom(0);
const weights = new Map(parameterTable(arch).map((p) => [p.name, initialise(p, 0.02, random)]));
const runner = await StepRunner.create(arch, (n) => weights.get(n), { threads: o.threads });
weights.clear();
const [B, T] = [8, 128];
const batch = {
  rows: B, length: T,
  inputIds: BigInt64Array.from({ length: B * T }, () => BigInt(5 + Math.floor(random.next() * 7990))),
  attentionMask: new BigInt64Array(B * T).fill(1n),
  labels: BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor(random.next() * 9))),
};
const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
const times = [];
for (let s = 0; s < 2 + o.steps; s++) {
  const start = performance.now();
  await runner.step(batch, 2e-5, settings);
  if (s >= 2) times.push((performance.now() - start) / 1000);
}
const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
const result = { seconds_per_step: median, tokens_per_second: (B * T) / median, peak_rss_bytes: process.resourceUsage().maxRSS * 1024 };
writeFileSync(o.out, JSON.stringify(result));
console.error(`[nerkit] ${o.modelType}: ${JSON.stringify(result)}`);
