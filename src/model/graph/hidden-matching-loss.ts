// Hidden-state matching for `nerkit distill --match-hidden`, forward and backward, as graph nodes.
// Shapes: B batch, T tokens, S the student's width, H the teacher's width, K pairs. For each pair k
// (teacher layer, student layer) with the teacher's hidden states t_k (B, T, H), the student's s_k
// (B, T, S) and the 0/1 mask m (B, T) of the non-padding tokens:
//   ŝ_k = s_k W_kᵀ + b_k   (a learned projection, W_k (H, S), b_k (H); ŝ_k = s_k when S = H)
//   loss = β · (1/K) Σ_k Σ_i m_i ‖t_ik − ŝ_ik‖² / (H · max(Σ_i m_i, 1))
// that is β times the mean over pairs of torch's mse_loss (reduction "mean") on the selected
// tokens, as TinyBERT's intermediate-layer loss (Jiao et al. 2020, https://arxiv.org/abs/1909.10351,
// eq. 8: MSE(H^S W_h, H^T), one W_h per matched layer here) and DistilBERT's hidden-state loss
// (which masks the padding) do. Layer 0 is the embeddings' output, layer l the output of encoder
// layer l, as transformers' `hidden_states`. β is 1 unless --hidden-weight says otherwise: the
// teacher's states leave a LayerNorm (mean square about 1 per feature while its weights are near 1)
// and a fresh projection gives nearly 0, so the term starts near 1, the scale of the label losses
// (cross-entropy starts at ln L), and the mean over pairs keeps it there however many layers are
// matched (TinyBERT weighs its terms 1 too).
// Every non-padding token takes part, [CLS], [SEP] and inner sub-tokens included, not only the word
// starts that the label losses use: a hidden state is the representation the next layer reads at
// every position, so a word start's output depends on all of them, and TinyBERT matches all
// tokens; padding is left out because its hidden states mean nothing (they change with the batch).
// Backward, with r_k = ŝ_k − t_k and c_i = 2β m_i / (K H max(Σ m, 1)):
//   dŝ_k = c · r_k;   ds_k = dŝ_k W_k;   dW_k = Σ_i dŝ_ikᵀ s_ik;   db_k = Σ_i dŝ_ik
// (the projection's part is ./linear.ts's backward). Left out: attention-map matching (TinyBERT's
// other intermediate loss) and a cosine loss (DistilBERT's): MSE through a projection is what works
// across widths.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { ParameterSpec } from "../parameters.js";
import { GradientSink } from "./gradients.js";
import { LinearSaved, WeightInput, linearBackward, linearForward } from "./linear.js";

/** A teacher layer matched to a student layer (0: the embeddings' output; l: encoder layer l's). */
export interface LayerPair {
  teacher: number;
  student: number;
}

export interface HiddenMatchingSettings {
  pairs: LayerPair[];
  /** β, the weight of the hidden-state term in the loss. */
  weight: number;
  /** The student's and the teacher's widths: a projection per pair when they differ. */
  studentWidth: number;
  teacherWidth: number;
}

/** Name of pair k's projection (weights `<name>.weight` and `<name>.bias`): training-only, never in the model. */
export const projectionName = (k: number) => `hidden_projection.${k}`;

/** The projections as parameters (initialised as transformers initialises a Linear layer); none when the widths are equal. */
export function projectionTable(settings: HiddenMatchingSettings): ParameterSpec[] {
  const { studentWidth: S, teacherWidth: H } = settings;
  if (S === H) return [];
  return settings.pairs.flatMap((_, k) => [
    { name: `${projectionName(k)}.weight`, shape: [H, S], init: "normal" as const, decay: true, trainingOnly: true },
    { name: `${projectionName(k)}.bias`, shape: [H], init: "zeros" as const, decay: false, trainingOnly: true },
  ]);
}

export interface HiddenMatchingInputs {
  student: string[]; // K × (B, T, S)
  teacher: string[]; // K × (B, T, H)
  mask: string; // (B, T) float 0/1
}

export interface HiddenMatchingSaved {
  residuals: string[]; // K × (B, T, H)
  projections: (LinearSaved | undefined)[];
  tokenScale: string; // (B, T, 1): c_i / 2
}

export function hiddenMatchingForward(g: GraphBuilder, x: HiddenMatchingInputs, weight: WeightInput, settings: HiddenMatchingSettings): { loss: string; saved: HiddenMatchingSaved } {
  const { studentWidth: S, teacherWidth: H, weight: beta } = settings;
  const K = settings.pairs.length;
  const count = g.op("Max", [g.op("ReduceSum", [x.mask], { keepdims: 0 }), g.float([1])]); // ()
  const tokenScale = g.op("Unsqueeze", [g.op("Div", [g.op("Mul", [x.mask, g.float([beta / (K * H)])]), count]), g.int64([-1])]); // (B, T, 1)
  const residuals: string[] = [];
  const projections: (LinearSaved | undefined)[] = [];
  const terms = x.student.map((s, k) => {
    const projected = S === H ? { y: s, saved: undefined } : linearForward(g, s, weight, projectionName(k), S, H); // (B, T, H)
    projections.push(projected.saved);
    const r = g.op("Sub", [projected.y, x.teacher[k]]); // (B, T, H)
    residuals.push(r);
    return g.op("ReduceSum", [g.op("Mul", [g.op("Mul", [r, r]), tokenScale])], { keepdims: 0 }); // ()
  });
  const loss = terms.length === 1 ? terms[0] : g.op("Sum", terms); // ()
  return { loss, saved: { residuals, projections, tokenScale } };
}

/** The gradient of the loss with respect to each student hidden state (K × (B, T, S)); the projections' gradients go into `sink`. */
export function hiddenMatchingBackward(g: GraphBuilder, s: HiddenMatchingSaved, sink: GradientSink): string[] {
  const twiceScale = g.op("Mul", [s.tokenScale, g.float([2])]); // (B, T, 1)
  return s.residuals.map((r, k) => {
    const dProjected = g.op("Mul", [r, twiceScale]); // (B, T, H)
    const projection = s.projections[k];
    return projection ? linearBackward(g, projection, dProjected, sink) : dProjected; // (B, T, S)
  });
}
