// --match-hidden wired into the training graph (src/train/graph/gradient-graph.ts) and the step
// runner, on the bert-tiny fixture as the student (2 layers, hidden 32) with made-up teacher states
// of width 48 (so projections) matched to its layer 1 and its embeddings' output (layer 0): the
// graph's loss is the distillation loss plus the float64 reference's hidden term on the student's
// own hidden states (src/model/graph/hidden-states-graph.ts); the gradients of the parameters above
// the highest matched layer are untouched, those below follow directional finite differences of
// the reference's term, the projections' are the reference's; a step with --match-hidden moves the
// parameters elsewhere than one without, and β moves them further; and the hidden-states graph's
// top layer, through the classifier, gives transformers' logits (so its layers are numbered right).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { buildGradientGraph, gradName, teacherHiddenName } from "../src/train/graph/gradient-graph.js";
import { buildHiddenStatesModel, hiddenStatesOutput } from "../src/model/graph/hidden-states-graph.js";
import { HiddenMatchingSettings, projectionName, projectionTable } from "../src/model/graph/hidden-matching-loss.js";
import { DistillationSettings } from "../src/model/graph/distillation-loss.js";
import { StepRunner } from "../src/train/step-runner.js";
import { SeededRandom } from "../src/train/random.js";
import { hiddenMatchingReference } from "./hidden-matching-reference.js";
import { maxAbsDifference, modelCases, tinyModelDir, trainingBatch } from "./model-cases.js";

const checkpoint = loadCheckpoint(tinyModelDir("bert"));
const arch = architectureOf(checkpoint.config);
const L = arch.labels.length;
const S = arch.hidden;
const H = 48;
const batch = trainingBatch("bert");
const [B, T] = [batch.rows, batch.length];
const random = new SeededRandom(7);
const normals = (n: number, scale: number) => Float32Array.from({ length: n }, () => random.normal() * scale);
const teacherLogits = normals(B * T * L, 2);
const softMask = Float32Array.from(batch.labels, (l) => (l !== -100n ? 1 : 0));
const mask = Float64Array.from(batch.attentionMask, Number);
const pairs = [
  { teacher: 4, student: 1 },
  { teacher: 2, student: 0 },
];
const teacherHidden = pairs.map(() => normals(B * T * H, 1));
const hiddenSettings = (weight: number): HiddenMatchingSettings => ({ pairs, weight, studentWidth: S, teacherWidth: H });
const projections = new Map(projectionTable(hiddenSettings(1)).map((p) => [p.name, normals(p.shape.reduce((a, b) => a * b, 1), 0.2)]));
const baseWeights = (name: string) => projections.get(name) ?? checkpoint.weights.tensor(name).data;

async function gradients(distillation: DistillationSettings, weights = baseWeights): Promise<Record<string, ort.Tensor>> {
  const built = buildGradientGraph(arch, { distillation });
  const session = await ort.InferenceSession.create(built.model, { intraOpNumThreads: 1 });
  const dims = [B, T];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", batch.inputIds, dims),
    attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
    token_type_ids: new ort.Tensor("int64", batch.tokenTypeIds!, dims),
    labels: new ort.Tensor("int64", batch.labels, dims),
    teacher_logits: new ort.Tensor("float32", teacherLogits, [B, T, L]),
    soft_mask: new ort.Tensor("float32", softMask, dims),
  };
  distillation.hidden?.pairs.forEach((_, k) => (feeds[teacherHiddenName(k)] = new ort.Tensor("float32", teacherHidden[k], [B, T, H])));
  for (const p of built.parameters) feeds[p.name] = new ort.Tensor("float32", weights(p.name), p.shape);
  const out = await session.run(feeds);
  await session.release();
  return out;
}

/** The student's hidden states at `layers` (eval mode; the fixture has no dropout), (B·T·S) each. */
async function studentStates(layers: readonly number[], weights = baseWeights): Promise<Float32Array[]> {
  const model = buildHiddenStatesModel(arch, (name) => ({ shape: [], data: weights(name) }), layers);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const dims = [B, T];
  const out = await session.run({
    input_ids: new ort.Tensor("int64", batch.inputIds, dims),
    attention_mask: new ort.Tensor("int64", batch.attentionMask, dims),
    token_type_ids: new ort.Tensor("int64", batch.tokenTypeIds!, dims),
  });
  await session.release();
  return layers.map((l) => out[hiddenStatesOutput(l)].data as Float32Array);
}

/** The reference's hidden term on the student's states for `weights`. */
async function referenceTerm(weight: number, weights = baseWeights) {
  const states = await studentStates(pairs.map((p) => p.student), weights);
  return hiddenMatchingReference({
    beta: weight,
    studentWidth: S,
    teacherWidth: H,
    mask,
    student: states,
    teacher: teacherHidden,
    weight: pairs.map((_, k) => weights(`${projectionName(k)}.weight`)),
    bias: pairs.map((_, k) => weights(`${projectionName(k)}.bias`)),
  });
}

const kd = { temperature: 2, alpha: 0.4 };

test("the hidden-states graph numbers layers as transformers: its top layer through the classifier gives transformers' logits", async () => {
  const [top] = await studentStates([arch.layers]);
  const w = checkpoint.weights.tensor("classifier.weight").data; // (L, S)
  const b = checkpoint.weights.tensor("classifier.bias").data;
  const logits = new Float32Array(B * T * L);
  for (let i = 0; i < B * T; i++) for (let l = 0; l < L; l++) {
    let sum = b[l];
    for (let s = 0; s < S; s++) sum += top[i * S + s] * w[l * S + s];
    logits[i * L + l] = sum;
  }
  // nerkit's float32 forward against transformers': measured 6.0e-8.
  assert.ok(maxAbsDifference(logits, modelCases.bert.logits_eval.flat(2)) < 5e-7);
});

test("with --match-hidden the training loss is the distillation loss plus β · the reference's hidden term on the student's states", async () => {
  const plain = ((await gradients(kd)).loss.data as Float32Array)[0];
  for (const weight of [1, 2.5]) {
    const matched = ((await gradients({ ...kd, hidden: hiddenSettings(weight) })).loss.data as Float32Array)[0];
    const { loss: term } = await referenceTerm(weight);
    // float32 loss sums against float64: measured 1.5e-7 relative to the term (about 2.2 and 5.5 here).
    assert.ok(Math.abs(matched - plain - term) / term < 1e-6, `β ${weight}: ${matched} − ${plain} vs ${term}`);
  }
});

test("the hidden term's gradients: none above the highest matched layer, the reference's for the projections, finite differences below", async () => {
  const plain = await gradients(kd);
  const matched = await gradients({ ...kd, hidden: hiddenSettings(1) });
  const difference = (name: string) => {
    const a = matched[gradName(name)].data as Float32Array;
    const b = plain[gradName(name)].data as Float32Array;
    return Float64Array.from(a, (x, i) => x - b[i]);
  };
  const norm = (v: Float64Array) => Math.hypot(...v);
  // Layer 2 (index 1) and the classifier lie above student layer 1: the same nodes, the same bits.
  for (const name of checkpoint.weights.names.filter((n) => n.startsWith("bert.encoder.layer.1.") || n.startsWith("classifier."))) {
    assert.equal(norm(difference(name)), 0, name);
  }
  // The projections' gradients are the reference's (on float32 states: measured 2.4e-7 relative).
  const reference = await referenceTerm(1);
  pairs.forEach((_, k) => {
    for (const [part, expected] of [["weight", reference.weight[k]], ["bias", reference.bias[k]]] as const) {
      const got = matched[gradName(`${projectionName(k)}.${part}`)].data as Float32Array;
      const scale = Math.max(...Array.from(expected, Math.abs));
      assert.ok(maxAbsDifference(got, expected) / scale < 1e-6, `${projectionName(k)}.${part}: ${maxAbsDifference(got, expected) / scale}`);
    }
  });
  // Below: along a random direction in one tensor of layer 1 (fed by the embeddings and reaching student
  // layer 1) and in the embeddings' LayerNorm (reaching both matched states), the change of the
  // reference's term equals the graph's gradient difference.
  for (const name of ["bert.encoder.layer.0.output.dense.weight", "bert.embeddings.LayerNorm.weight"]) {
    const exact = difference(name);
    assert.ok(norm(exact) > 1e-3, `${name} receives the hidden term's gradient`);
    const base = baseWeights(name);
    const direction = normals(base.length, 1);
    const h = 1e-2;
    const at = async (sign: number) => (await referenceTerm(1, (n) => (n === name ? Float32Array.from(base, (x, i) => x + sign * h * direction[i]) : baseWeights(n)))).loss;
    const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
    const analytic = exact.reduce((sum, g, i) => sum + g * direction[i], 0);
    // Central differences on float32 states: truncation ~h² and rounding ~1e-7/h; measured 2.5e-5 relative.
    assert.ok(Math.abs(numeric - analytic) / Math.abs(analytic) < 2e-4, `${name}: ${numeric} vs ${analytic}`);
  }
});

test("a step with --match-hidden moves the parameters elsewhere than one without; β moves them further; accumulation sees the same loss", async () => {
  const adamw = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 };
  const hiddenBatch = { ...batch, teacherLogits, softMask, teacherHidden };
  const after = async (distillation: DistillationSettings, accumulate = 1) => {
    const runner = await StepRunner.create(arch, baseWeights, { threads: 1, distillation });
    try {
      const { loss } = await runner.accumulatedStep(Array(accumulate).fill(hiddenBatch), 1e-3, adamw);
      return { loss, tensor: (name: string) => Float32Array.from(runner.tensor(name)) };
    } finally {
      await runner.release();
    }
  };
  const name = "bert.encoder.layer.0.attention.self.query.weight";
  const plain = await after(kd);
  const matched = await after({ ...kd, hidden: hiddenSettings(1) });
  const heavier = await after({ ...kd, hidden: hiddenSettings(4) });
  // AdamW's first step moves each coordinate by about lr·sign(g): a different gradient sign moves it 2e-3 apart.
  assert.ok(maxAbsDifference(plain.tensor(name), matched.tensor(name)) > 1e-3);
  assert.ok(maxAbsDifference(matched.tensor(name), heavier.tensor(name)) > 1e-3);
  assert.ok(heavier.loss > matched.loss + 1, `${heavier.loss} vs ${matched.loss}`);
  // The projections train: after a step they have left their starting values by about lr.
  const projection = `${projectionName(0)}.weight`;
  assert.ok(maxAbsDifference(matched.tensor(projection), baseWeights(projection)) > 5e-4);
  // Gradient accumulation (the gradient graph, then the optimizer graph) feeds the states as well (measured: equal).
  const accumulated = await after({ ...kd, hidden: hiddenSettings(1) }, 2);
  assert.ok(Math.abs(accumulated.loss - matched.loss) / matched.loss < 1e-6, `${accumulated.loss} vs ${matched.loss}`);
  const runner = await StepRunner.create(arch, baseWeights, { threads: 1, distillation: { ...kd, hidden: hiddenSettings(1) } });
  try {
    await assert.rejects(runner.step({ ...batch, teacherLogits, softMask }, 1e-3, adamw), /needs the teacher's hidden states/);
  } finally {
    await runner.release();
  }
});
