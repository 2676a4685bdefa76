// The hidden-state matching loss of `nerkit distill --match-hidden` and its gradients with respect
// to the student's hidden states and the projections: the graph (src/model/graph/hidden-matching-loss.ts,
// ONNX Runtime, float32) and the float64 loop reference (./hidden-matching-reference.ts) against
// PyTorch's values (test/fixtures/distill/hidden-cases.json, made by the committed
// make_hidden_cases.py), and the reference's gradients against central finite differences. The
// cases cover projected and equal widths (identity), one to three pairs, β ≠ 1 and padding.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../src/model/onnx/graph-builder.js";
import { DataType } from "../src/model/onnx/proto.js";
import { GradientSink } from "../src/model/graph/gradients.js";
import { hiddenMatchingBackward, hiddenMatchingForward, projectionName, projectionTable } from "../src/model/graph/hidden-matching-loss.js";
import { HiddenCase, hiddenMatchingReference } from "./hidden-matching-reference.js";
import { readJson, repoRoot } from "./helpers.js";

interface TorchCase {
  name: string;
  beta: number;
  shape: [number, number, number, number];
  mask: number[];
  student: number[][];
  teacher: number[][];
  weight: number[][];
  bias: number[][];
  loss: number;
  grad_student: number[][];
  grad_weight: number[][];
  grad_bias: number[][];
}

const { cases } = readJson<{ cases: TorchCase[] }>(join(repoRoot, "test", "fixtures", "distill", "hidden-cases.json"));

const referenceCase = (c: TorchCase): HiddenCase => ({ beta: c.beta, studentWidth: c.shape[2], teacherWidth: c.shape[3], mask: c.mask, student: c.student, teacher: c.teacher, weight: c.weight, bias: c.bias });

/** max |a − b| / max |b| over all the arrays: the error relative to the quantity's scale. */
function relativeError(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  let worst = 0;
  let scale = 0;
  b.forEach((bk, k) => {
    for (let i = 0; i < bk.length; i++) {
      worst = Math.max(worst, Math.abs(a[k][i] - bk[i]));
      scale = Math.max(scale, Math.abs(bk[i]));
    }
  });
  return worst / scale;
}

async function graphLoss(c: TorchCase): Promise<{ loss: number; student: Float32Array[]; weight: Float32Array[]; bias: Float32Array[] }> {
  const [B, T, S, H] = c.shape;
  const K = c.student.length;
  const settings = { pairs: c.student.map((_, k) => ({ teacher: k + 1, student: k + 1 })), weight: c.beta, studentWidth: S, teacherWidth: H };
  const g = new GraphBuilder();
  const parameters = projectionTable(settings);
  for (const p of parameters) g.input(p.name, DataType.FLOAT, p.shape);
  const student = c.student.map((_, k) => g.input(`student.${k}`, DataType.FLOAT, [B, T, S]));
  const teacher = c.teacher.map((_, k) => g.input(`teacher.${k}`, DataType.FLOAT, [B, T, H]));
  const mask = g.input("mask", DataType.FLOAT, [B, T]);
  const { loss, saved } = hiddenMatchingForward(g, { student, teacher, mask }, (name) => name, settings);
  g.ops("Identity", [loss], {}, ["loss"]);
  g.output("loss", DataType.FLOAT, []);
  const sink = new GradientSink(g);
  hiddenMatchingBackward(g, saved, sink).forEach((d, k) => {
    g.ops("Identity", [d], {}, [`grad.student.${k}`]);
    g.output(`grad.student.${k}`, DataType.FLOAT, [B, T, S]);
  });
  for (const p of parameters) {
    g.ops("Identity", [sink.grads.get(p.name)!], {}, [`grad.${p.name}`]);
    g.output(`grad.${p.name}`, DataType.FLOAT, p.shape);
  }
  const session = await ort.InferenceSession.create(g.build("hidden matching loss"), { intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = { mask: new ort.Tensor("float32", Float32Array.from(c.mask), [B, T]) };
  for (let k = 0; k < K; k++) {
    feeds[`student.${k}`] = new ort.Tensor("float32", Float32Array.from(c.student[k]), [B, T, S]);
    feeds[`teacher.${k}`] = new ort.Tensor("float32", Float32Array.from(c.teacher[k]), [B, T, H]);
  }
  c.weight.forEach((w, k) => {
    feeds[`${projectionName(k)}.weight`] = new ort.Tensor("float32", Float32Array.from(w), [H, S]);
    feeds[`${projectionName(k)}.bias`] = new ort.Tensor("float32", Float32Array.from(c.bias[k]), [H]);
  });
  const out = await session.run(feeds);
  await session.release();
  const read = (name: string) => out[name].data as Float32Array;
  return {
    loss: read("loss")[0],
    student: c.student.map((_, k) => read(`grad.student.${k}`)),
    weight: c.weight.map((_, k) => read(`grad.${projectionName(k)}.weight`)),
    bias: c.weight.map((_, k) => read(`grad.${projectionName(k)}.bias`)),
  };
}

test("the fixture's cases: padding takes no gradient, β scales the loss, equal widths have no projection", () => {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const padded = byName.get("two-pairs-projected-6-to-8")!;
  const S = padded.shape[2];
  const T = padded.shape[1];
  // Row 1, tokens 3 and 4 are padding: zero gradient there, non-zero on every real token.
  for (const [token, zero] of [[T + 3, true], [T + 4, true], [T + 2, false], [0, false]] as const) {
    const norm = Math.hypot(...padded.grad_student[0].slice(token * S, (token + 1) * S));
    assert.equal(norm === 0, zero, `token ${token}`);
  }
  assert.equal(byName.get("two-pairs-equal-widths-identity-beta-0.5")!.weight.length, 0);
  assert.equal(projectionTable({ pairs: [{ teacher: 2, student: 1 }], weight: 1, studentWidth: 6, teacherWidth: 6 }).length, 0);
});

// Measured: the float64 reference agrees with PyTorch to 7.9e-16 (loss) and 3.2e-16 (gradients), relative.
const REFERENCE_TOLERANCE = 4e-15;

for (const c of cases) {
  test(`${c.name}: the float64 reference equals PyTorch's loss and gradients`, () => {
    const r = hiddenMatchingReference(referenceCase(c));
    assert.ok(Math.abs(r.loss - c.loss) / c.loss < REFERENCE_TOLERANCE, `loss ${r.loss} vs ${c.loss}`);
    for (const [ours, torch, what] of [[r.student, c.grad_student, "student"], [r.weight, c.grad_weight, "W"], [r.bias, c.grad_bias, "b"]] as const) {
      if (torch.length === 0) continue;
      assert.ok(relativeError(ours, torch) < REFERENCE_TOLERANCE, `${what}: ${relativeError(ours, torch)}`);
    }
  });

  test(`${c.name}: the reference's gradients equal central finite differences`, () => {
    const base = referenceCase(c);
    const exact = hiddenMatchingReference(base);
    const h = 1e-5;
    // Each input array perturbed one value at a time: student states, then W and b.
    const numeric = (field: "student" | "weight" | "bias"): Float64Array[] =>
      base[field].map((values, k) =>
        Float64Array.from(values as ArrayLike<number>, (_, i) => {
          const at = (delta: number) => {
            const changed = Float64Array.from(values);
            changed[i] += delta;
            const arrays = base[field].map((v, j) => (j === k ? changed : v));
            return hiddenMatchingReference({ ...base, [field]: arrays }).loss;
          };
          return (at(h) - at(-h)) / (2 * h);
        }),
      );
    for (const field of ["student", "weight", "bias"] as const) {
      if (base[field].length === 0) continue;
      const error = relativeError(numeric(field), exact[field]);
      // The loss is quadratic in each input, so central differences have no truncation error:
      // what is left is float64 rounding, ~1e-16 · loss / h; measured at most 7.3e-10.
      assert.ok(error < 5e-9, `${field}: finite-difference error ${error}`);
    }
  });

  test(`${c.name}: the graph (float32, ONNX Runtime) equals PyTorch's loss and gradients`, async () => {
    const r = await graphLoss(c);
    // Float32 throughout: measured at most 9.7e-8 (loss) and 1.6e-7 (gradients) relative over the cases.
    assert.ok(Math.abs(r.loss - c.loss) / c.loss < 6e-7, `loss ${r.loss} vs ${c.loss}`);
    for (const [ours, torch, what] of [[r.student, c.grad_student, "student"], [r.weight, c.grad_weight, "W"], [r.bias, c.grad_bias, "b"]] as const) {
      if (torch.length === 0) continue;
      assert.ok(relativeError(ours, torch) < 1.3e-6, `${what}: ${relativeError(ours, torch)}`);
    }
  });
}
