// The training memory estimate's parts, worked out by hand for a small BERT (2 layers, hidden 4,
// 2 heads, feed-forward 8, vocabulary 10, 16 positions, 3 labels: 479 parameters), so that a changed
// coefficient or a part counted twice shows. How well the sum matches measured peaks is in
// bench/RESULTS.md (bench/train/memory.mjs, bench/train/run.mjs); test/train-cli.test.ts checks it
// within 25% on the tiny test models.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Architecture } from "../src/model/architecture.js";
import { parameterCount, parameterTable } from "../src/model/parameters.js";
import { PARAMETER_COPIES, estimateMemory, memoryParts } from "../src/train/memory-estimate.js";

const arch: Architecture = {
  modelType: "bert", hidden: 4, heads: 2, layers: 2, intermediate: 8, vocabSize: 10, maxPositions: 16, typeVocabSize: 2,
  layerNormEps: 1e-12, padTokenId: 0, activation: "gelu", labels: ["O", "B-X", "I-X"], initializerRange: 0.02,
  dropout: { hidden: 0.1, attention: 0.1, classifier: 0.1 },
};
const MiB = 2 ** 20;

test("the parameter count behind the estimate: embeddings 120, each layer 172, classifier 15", () => {
  assert.equal(parameterCount(parameterTable(arch)), 40 + 64 + 8 + 8 + 2 * (4 * 20 + 8 + 40 + 36 + 8) + 15);
});

test("each part of the estimate, by hand, for batches of 2 × 5 tokens and 1,000 tokens of data", () => {
  const parts = memoryParts(arch, 2, 5, 1000);
  assert.equal(PARAMETER_COPIES, 6);
  assert.equal(parts.runtime, 120 * MiB);
  assert.equal(parts.parameters, 6 * 4 * 479);
  assert.equal(parts.layers, 2 * 8.5 * MiB);
  // Per token and layer 1.1 × 4 × (16·4 + 2·8 + 3·2·5) = 484 bytes; 2 layers + 9.5 KiB = 10,696 bytes; 10 tokens.
  assert.ok(Math.abs(parts.activations - 10 * (2 * 484 + 9728)) < 1e-6, `${parts.activations}`);
  assert.equal(parts.data, 260 * 1000);
  assert.equal(estimateMemory(arch, 2, 5, 1000), parts.runtime + parts.parameters + parts.layers + parts.activations + parts.data);
});

test("the activations grow with the batch's tokens and, through attention, with its length", () => {
  const at = (b: number, t: number) => memoryParts(arch, b, t).activations;
  assert.ok(Math.abs(at(4, 5) - 2 * at(2, 5)) < 1e-6, "twice the rows, twice the activations");
  assert.ok(at(1, 10) > at(2, 5), "the same tokens in longer rows cost more (attention is T × T)");
  assert.equal(memoryParts(arch, 2, 5).data, 0);
});
