// The distillation loss and its gradient with respect to the student logits: the graph
// (src/model/graph/distillation-loss.ts, run by ONNX Runtime in float32) and the float64 loop
// reference (./distillation-reference.ts) against PyTorch's values (test/fixtures/distill/,
// made by the committed make_loss_cases.py), and the reference's gradient against finite
// differences. The cases share one set of logits and vary T, α, the gold labels and the soft mask
// (a word start of unlabelled text, a sub-token without soft targets, padding, class weights).
// Also the binary16 rounding the teacher-logit cache stores with (numpy's values).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../src/model/onnx/graph-builder.js";
import { DataType } from "../src/model/onnx/proto.js";
import { distillationBackward, distillationForward } from "../src/model/graph/distillation-loss.js";
import { f16BitsToF32Bits, f32ToF16Bits } from "../src/model/checkpoint/dtypes.js";
import { distillationReference } from "./distillation-reference.js";
import { readJson, repoRoot } from "./helpers.js";

interface TorchCase {
  name: string;
  temperature: number;
  alpha: number;
  shape: [number, number, number];
  student: number[];
  teacher: number[];
  labels: number[];
  soft_mask: number[];
  class_weights: number[] | null;
  loss: number;
  grad: number[];
}

const { cases } = readJson<{ cases: TorchCase[] }>(join(repoRoot, "test", "fixtures", "distill", "loss-cases.json"));

const referenceCase = (c: TorchCase) => ({
  temperature: c.temperature,
  alpha: c.alpha,
  student: c.student,
  teacher: c.teacher,
  labels: c.labels,
  softMask: c.soft_mask,
  classWeights: c.class_weights,
  labelCount: c.shape[2],
});

async function graphLoss(c: TorchCase): Promise<{ loss: number; grad: Float32Array }> {
  const [B, T, L] = c.shape;
  const g = new GraphBuilder();
  const logits = g.input("logits", DataType.FLOAT, [B, T, L]);
  const labels = g.input("labels", DataType.INT64, [B, T]);
  const teacherLogits = g.input("teacher_logits", DataType.FLOAT, [B, T, L]);
  const softMask = g.input("soft_mask", DataType.FLOAT, [B, T]);
  const classWeights = c.class_weights ? g.input("class_weights", DataType.FLOAT, [L]) : undefined;
  const settings = { temperature: c.temperature, alpha: c.alpha };
  const { loss, saved } = distillationForward(g, { logits, labels, teacherLogits, softMask, classWeights }, L, settings);
  g.ops("Identity", [loss], {}, ["loss"]);
  g.output("loss", DataType.FLOAT, []);
  g.ops("Identity", [distillationBackward(g, saved, settings, g.op("Shape", [logits]))], {}, ["grad"]);
  g.output("grad", DataType.FLOAT, [B, T, L]);
  const session = await ort.InferenceSession.create(g.build("distillation loss"), { intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {
    logits: new ort.Tensor("float32", Float32Array.from(c.student), [B, T, L]),
    labels: new ort.Tensor("int64", BigInt64Array.from(c.labels, BigInt), [B, T]),
    teacher_logits: new ort.Tensor("float32", Float32Array.from(c.teacher), [B, T, L]),
    soft_mask: new ort.Tensor("float32", Float32Array.from(c.soft_mask), [B, T]),
  };
  if (c.class_weights) feeds.class_weights = new ort.Tensor("float32", Float32Array.from(c.class_weights), [L]);
  const out = await session.run(feeds);
  await session.release();
  return { loss: (out.loss.data as Float32Array)[0], grad: out.grad.data as Float32Array };
}

/** max |a − b| / max |b|: the error relative to the quantity's scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

test("the fixture's cases differ where T, α and the masks should make them differ", () => {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const loss = (name: string) => byName.get(name)!.loss;
  // The same logits throughout: each pair differs only in the setting named.
  for (const [a, b] of [["T1-a0.5", "T2-a0.5"], ["T2-a0.5", "T2-a1-gold-only"], ["T2-a0.5", "T2-a0-soft-only"], ["T2-a0.5", "T2-a0.5-unlabelled-only"]]) {
    assert.ok(Math.abs(loss(a) - loss(b)) > 0.1, `${a} vs ${b}`);
  }
  // Unlabelled row: its word starts (soft mask 1, no gold label) get a gradient, its padding none.
  const c = byName.get("T2-a0.5")!;
  const L = c.shape[2];
  const T = c.shape[1];
  const rowNorm = (token: number) => Math.hypot(...c.grad.slice(token * L, (token + 1) * L));
  assert.ok(rowNorm(T + 1) > 1e-3 && rowNorm(T + 3) > 1e-3);
  assert.equal(rowNorm(T + 2), 0);
  assert.equal(rowNorm(T + 4), 0);
});

// Measured: the float64 reference agrees with PyTorch to 3.8e-16 (loss) and 3.1e-16 (gradient), relative.
const REFERENCE_TOLERANCE = 4e-15;

for (const c of cases) {
  test(`${c.name}: the float64 reference equals PyTorch's loss and gradient`, () => {
    const { loss, grad } = distillationReference(referenceCase(c));
    assert.ok(Math.abs(loss - c.loss) / Math.abs(c.loss) < REFERENCE_TOLERANCE, `loss ${loss} vs ${c.loss}`);
    assert.ok(relativeError(grad, c.grad) < REFERENCE_TOLERANCE, `gradient error ${relativeError(grad, c.grad)}`);
  });

  test(`${c.name}: the reference's gradient equals central finite differences`, () => {
    const base = referenceCase(c);
    const { grad } = distillationReference(base);
    const h = 1e-5;
    const numeric = grad.map((_, i) => {
      const plus = Float64Array.from(c.student);
      const minus = Float64Array.from(c.student);
      plus[i] += h;
      minus[i] -= h;
      return (distillationReference({ ...base, student: plus }).loss - distillationReference({ ...base, student: minus }).loss) / (2 * h);
    });
    // Central differences at h = 1e-5 in float64: truncation ~h² and rounding ~1e-16/h; measured 2.7e-10.
    assert.ok(relativeError(numeric, grad) < 3e-9, `finite-difference error ${relativeError(numeric, grad)}`);
  });

  test(`${c.name}: the graph (float32, ONNX Runtime) equals PyTorch's loss and gradient`, async () => {
    const { loss, grad } = await graphLoss(c);
    // Float32 throughout: measured at most 6.3e-8 (loss) and 1.2e-7 (gradient) relative over the cases.
    assert.ok(Math.abs(loss - c.loss) / Math.abs(c.loss) < 5e-7, `loss ${loss} vs ${c.loss}`);
    assert.ok(relativeError(grad, c.grad) < 1e-6, `gradient error ${relativeError(grad, c.grad)}`);
  });
}

test("binary16 rounding: every half survives the round trip, and floats round as numpy's astype(float16)", () => {
  const bits = new Uint32Array(1);
  const float = new Float32Array(bits.buffer);
  for (let h = 0; h < 0x10000; h++) {
    bits[0] = f16BitsToF32Bits(h);
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (!isNaN) assert.equal(f32ToF16Bits(float[0]), h, `half 0x${h.toString(16)}`);
  }
  // Values and bits from numpy 1.24: np.array(v, np.float32).astype(np.float16).view(np.uint16).
  const numpy: [number, number][] = [
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [65519.99, 0x7bff],
    [2 ** -24, 0x1],
    [2 ** -25, 0x0],
    [3 * 2 ** -25, 0x2],
    [1e-8, 0x0],
    [-2.5e-5, 0x81a3],
    [1 + 2 ** -10 + 2 ** -11, 0x3c02],
    [0.1, 0x2e66],
  ];
  for (const [value, expected] of numpy) assert.equal(f32ToF16Bits(value), expected, `${value}`);
  assert.equal(f32ToF16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(f32ToF16Bits(NaN) & 0x3ff, 0);
});
