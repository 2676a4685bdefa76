// The distillation loss in plain float64 loops: the slow, obvious oracle that the graph of
// src/model/graph/distillation-loss.ts is checked against (with PyTorch's values and finite
// differences). Flat row-major arrays: logits (N·L), labels and soft mask (N), N = B·T.

export interface LossCase {
  temperature: number;
  alpha: number;
  student: ArrayLike<number>;
  teacher: ArrayLike<number>;
  labels: ArrayLike<number>;
  softMask: ArrayLike<number>;
  classWeights?: ArrayLike<number> | null;
  labelCount: number;
}

function logSoftmax(row: ArrayLike<number>, scale: number): number[] {
  const x = Array.from(row, (v) => v * scale);
  const max = Math.max(...x);
  const logSum = Math.log(x.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
  return x.map((v) => v - logSum);
}

/** The loss and its gradient with respect to the student logits. */
export function distillationReference(c: LossCase): { loss: number; grad: Float64Array } {
  const L = c.labelCount;
  const n = c.labels.length;
  const grad = new Float64Array(n * L);
  const row = (a: ArrayLike<number>, i: number) => Array.from({ length: L }, (_, l) => a[i * L + l]);
  let weightSum = 0;
  let maskSum = 0;
  for (let i = 0; i < n; i++) {
    if (c.labels[i] !== -100) weightSum += c.classWeights ? c.classWeights[c.labels[i]] : 1;
    maskSum += c.softMask[i];
  }
  let ce = 0;
  let kd = 0;
  const T = c.temperature;
  for (let i = 0; i < n; i++) {
    const z = row(c.student, i);
    if (c.labels[i] !== -100) {
      const w = (c.classWeights ? c.classWeights[c.labels[i]] : 1) / weightSum;
      const logP = logSoftmax(z, 1);
      ce -= w * logP[c.labels[i]];
      for (let l = 0; l < L; l++) grad[i * L + l] += c.alpha * w * (Math.exp(logP[l]) - (l === c.labels[i] ? 1 : 0));
    }
    if (c.softMask[i] !== 0) {
      const m = c.softMask[i] / Math.max(maskSum, 1);
      const logQ = logSoftmax(z, 1 / T);
      const logPt = logSoftmax(row(c.teacher, i), 1 / T);
      for (let l = 0; l < L; l++) {
        kd += m * Math.exp(logPt[l]) * (logPt[l] - logQ[l]);
        grad[i * L + l] += (1 - c.alpha) * T * m * (Math.exp(logQ[l]) - Math.exp(logPt[l]));
      }
    }
  }
  return { loss: c.alpha * ce + (1 - c.alpha) * T * T * kd, grad };
}
