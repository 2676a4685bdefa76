// The hidden-state matching loss of --match-hidden in plain float64 loops: the slow, obvious oracle
// that the graph of src/model/graph/hidden-matching-loss.ts is checked against (with PyTorch's
// values and finite differences). Flat row-major arrays: per pair, the student's hidden states
// (N·S), the teacher's (N·H), the projection W (H·S) and b (H) (absent when S = H); the mask (N).

export interface HiddenCase {
  beta: number;
  studentWidth: number;
  teacherWidth: number;
  mask: ArrayLike<number>;
  student: ArrayLike<number>[];
  teacher: ArrayLike<number>[];
  /** Empty when the widths are equal (no projection). */
  weight: ArrayLike<number>[];
  bias: ArrayLike<number>[];
}

export interface HiddenGradients {
  loss: number;
  student: Float64Array[];
  weight: Float64Array[];
  bias: Float64Array[];
}

/** The loss and its gradients with respect to the student's hidden states and the projections. */
export function hiddenMatchingReference(c: HiddenCase): HiddenGradients {
  const { studentWidth: S, teacherWidth: H } = c;
  const n = c.mask.length;
  const K = c.student.length;
  let count = 0;
  for (let i = 0; i < n; i++) count += c.mask[i];
  const scale = c.beta / (K * H * Math.max(count, 1));
  let loss = 0;
  const out: HiddenGradients = { loss: 0, student: [], weight: [], bias: [] };
  for (let k = 0; k < K; k++) {
    const projected = c.weight.length > 0;
    const dStudent = new Float64Array(n * S);
    const dWeight = new Float64Array(projected ? H * S : 0);
    const dBias = new Float64Array(projected ? H : 0);
    for (let i = 0; i < n; i++) {
      if (c.mask[i] === 0) continue;
      for (let h = 0; h < H; h++) {
        let predicted = projected ? c.bias[k][h] : c.student[k][i * S + h];
        if (projected) for (let s = 0; s < S; s++) predicted += c.weight[k][h * S + s] * c.student[k][i * S + s];
        const r = predicted - c.teacher[k][i * H + h];
        loss += scale * c.mask[i] * r * r;
        const d = 2 * scale * c.mask[i] * r; // d loss / d predicted
        if (!projected) {
          dStudent[i * S + h] += d;
          continue;
        }
        dBias[h] += d;
        for (let s = 0; s < S; s++) {
          dWeight[h * S + s] += d * c.student[k][i * S + s];
          dStudent[i * S + s] += d * c.weight[k][h * S + s];
        }
      }
    }
    out.student.push(dStudent);
    out.weight.push(dWeight);
    out.bias.push(dBias);
  }
  out.loss = loss;
  return out;
}
