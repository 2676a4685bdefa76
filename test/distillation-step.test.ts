// The distillation loss wired into the training graph (src/train/graph/gradient-graph.ts) and its
// batches (src/train/distill/soft-targets.ts): on the bert-tiny fixture batch, the graph's loss
// equals the float64 reference applied to transformers' logits for that batch with the teacher
// logits and soft mask fed; with α = 1 the loss and every parameter gradient are plain training's;
// the step runner feeds them in one-batch steps and in gradient accumulation; and collation puts each example's binary16 teacher rows at its own tokens, the mask on them only.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { f32ToF16 } from "../src/model/checkpoint/dtypes.js";
import { buildGradientGraph, gradName } from "../src/train/graph/gradient-graph.js";
import { collateSoftTargets } from "../src/train/distill/soft-targets.js";
import { StepRunner } from "../src/train/step-runner.js";
import { distillationReference } from "./distillation-reference.js";
import { maxAbsDifference, modelCases, tinyModelDir, trainingBatch } from "./model-cases.js";

const checkpoint = loadCheckpoint(tinyModelDir("bert"));
const arch = architectureOf(checkpoint.config);
const L = arch.labels.length;
const batch = trainingBatch("bert");
const [B, T] = [batch.rows, batch.length];
const studentLogits = modelCases.bert.logits_eval.flat(2); // transformers' eval-mode logits, (B·T·L)
// A teacher that disagrees with the student: its logits reversed along the labels, times 3.
const teacherLogits = Float32Array.from({ length: B * T * L }, (_, i) => 3 * studentLogits[i - (i % L) + (L - 1 - (i % L))]);
// The soft mask on every labelled token, and on one more token with no gold label (as in unlabelled text).
const labels = Array.from(batch.labels, Number);
const extra = labels.findIndex((l, i) => l === -100 && batch.attentionMask[i] === 1n && i % T !== 0);
const softMask = Float32Array.from(labels, (l, i) => (l !== -100 || i === extra ? 1 : 0));

async function run(distillation?: { temperature: number; alpha: number }): Promise<Record<string, ort.Tensor>> {
  const built = buildGradientGraph(arch, { distillation });
  const session = await ort.InferenceSession.create(built.model, { intraOpNumThreads: 1 });
  const dims = [B, T];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", batch.inputIds, dims),
    attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
    token_type_ids: new ort.Tensor("int64", batch.tokenTypeIds!, dims),
    labels: new ort.Tensor("int64", batch.labels, dims),
  };
  if (distillation) {
    feeds.teacher_logits = new ort.Tensor("float32", teacherLogits, [B, T, L]);
    feeds.soft_mask = new ort.Tensor("float32", softMask, dims);
  }
  for (const p of built.parameters) feeds[p.name] = new ort.Tensor("float32", checkpoint.weights.tensor(p.name).data, p.shape);
  const out = await session.run(feeds);
  await session.release();
  return out;
}

test("the training graph's distillation loss is the reference's on the batch's logits", async () => {
  assert.ok(extra >= 0);
  const settings = { temperature: 2, alpha: 0.3 };
  const out = await run(settings);
  const loss = (out.loss.data as Float32Array)[0];
  const expected = distillationReference({ ...settings, student: studentLogits, teacher: teacherLogits, labels, softMask, labelCount: L }).loss;
  // Measured 1.5e-7 relative: nerkit's float32 logits against transformers' (they differ by ~1e-7).
  assert.ok(Math.abs(loss - expected) / expected < 1.5e-6, `${loss} vs ${expected}`);
});

test("with α = 1 the distillation graph trains as plain cross-entropy does: the same loss and gradients", async () => {
  const plain = await run();
  const distilled = await run({ temperature: 2, alpha: 1 });
  const a = (plain.loss.data as Float32Array)[0];
  const b = (distilled.loss.data as Float32Array)[0];
  // SoftmaxCrossEntropyLoss against LogSoftmax and a sum: measured 1.1e-7 relative.
  assert.ok(Math.abs(a - b) / a < 1e-6, `${a} vs ${b}`);
  let worst = 0;
  for (const name of checkpoint.weights.names) {
    const key = gradName(name);
    if (!plain[key]) continue;
    worst = Math.max(worst, maxAbsDifference(distilled[key].data as Float32Array, plain[key].data as Float32Array));
  }
  // The same backward nodes from the same log-probabilities: measured 0 (gradients up to ~1).
  assert.ok(worst < 1e-9, `largest gradient difference ${worst}`);
});

test("the step runner feeds the teacher's logits in a whole step and in gradient accumulation", async () => {
  const settings = { temperature: 2, alpha: 0.3 };
  const expected = ((await run(settings)).loss.data as Float32Array)[0];
  const adamw = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
  const distilBatch = { ...batch, teacherLogits, softMask };
  for (const accumulate of [1, 2]) {
    const runner = await StepRunner.create(arch, (name) => checkpoint.weights.tensor(name).data, { threads: 1, distillation: settings });
    try {
      // The loss is that of the parameters before the update; the same batch twice averages to itself
      // (measured: equal to the gradient graph's, to the bit, in both paths).
      const { loss } = await runner.accumulatedStep(Array(accumulate).fill(distilBatch), 1e-3, adamw);
      assert.ok(Math.abs(loss - expected) / expected < 1e-6, `${accumulate} batches: ${loss} vs ${expected}`);
      await assert.rejects(runner.step(batch, 1e-3, adamw), /needs the teacher's logits/);
    } finally {
      await runner.release();
    }
  }
});

test("collation puts each example's teacher rows at its own tokens and the soft mask there only", () => {
  const rows = [
    [0.5, -1, 2],
    [3, 0.25, -0.75],
    [1.5, 1, -2],
  ];
  const examples = [
    { soft: { positions: [1, 3], logits: f32ToF16(Float32Array.from([...rows[0], ...rows[1]])), labelCount: 3 } },
    { soft: { positions: [2], logits: f32ToF16(Float32Array.from(rows[2])), labelCount: 3 } },
  ];
  const { teacherLogits: collated, softMask: mask } = collateSoftTargets(examples, 2, 5) as { teacherLogits: Float32Array; softMask: Float32Array };
  assert.deepEqual([...mask], [0, 1, 0, 1, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual([...collated.subarray(3, 6)], rows[0]);
  assert.deepEqual([...collated.subarray(9, 12)], rows[1]);
  assert.deepEqual([...collated.subarray((5 + 2) * 3, (5 + 3) * 3)], rows[2]);
  assert.equal(collated.filter((x) => x !== 0).length, 9);
  assert.deepEqual(collateSoftTargets([{}, {}], 2, 5), {});
});
