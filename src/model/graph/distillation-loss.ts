// The knowledge-distillation loss of `nerkit distill`, forward and backward, as graph nodes.
// Shapes: B batch, T tokens, L labels, N = B·T (flattened). Per token i, with student logits z_i,
// teacher logits t_i, gold label y_i (−100: none) and a 0/1 soft-target mask m_i (1 on the tokens
// that carry a label: word starts, labelled or not):
//   CE = Σ_i w_i · (−log softmax(z_i)[y_i]) / max(Σ_i w_i, 1e-12)   w_i = [y_i ≠ −100] · class weight
//   KD = Σ_i m_i · KL(p_i ‖ q_i) / max(Σ_i m_i, 1)   p_i = softmax(t_i / T), q_i = softmax(z_i / T)
//   loss = α · CE + (1 − α) · T² · KD
// KD averages over the masked tokens as DistilBERT's distiller does (transformers'
// examples/research_projects/distillation/distiller.py: the masked rows selected, then
// nn.KLDivLoss(reduction="batchmean") on log_softmax(s/T) and softmax(t/T), times T²), so each
// word-start token weighs the same whatever its batch; the T² keeps the soft term's gradient on the
// scale of the hard term's when T changes (Hinton et al. 2015, https://arxiv.org/abs/1503.02531).
// CE is torch's CrossEntropyLoss(ignore_index=−100) and is 0 (not NaN) for a batch of unlabelled
// text only. Backward (d loss / d z_i):
//   α · (softmax(z_i) − onehot(y_i)) · w_i / Σ w  +  (1 − α) · T · (q_i − p_i) · m_i / Σ m
// T and α are constants of the graph: a run has one of each. Hidden-state matching (--match-hidden),
// when on, is a term of its own added to this loss: ./hidden-matching-loss.ts.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { IGNORE_INDEX } from "./cross-entropy.js";
import { HiddenMatchingSettings } from "./hidden-matching-loss.js";

export interface DistillationSettings {
  temperature: number;
  alpha: number;
  /** --match-hidden: the hidden-state term added to the loss. */
  hidden?: HiddenMatchingSettings;
}

export interface DistillationInputs {
  logits: string; // (B, T, L)
  labels: string; // (B, T) int64
  teacherLogits: string; // (B, T, L)
  softMask: string; // (B, T) float 0/1
  classWeights?: string; // (L)
}

export interface DistillationSaved {
  logProbs: string;
  studentSoft: string;
  teacherSoft: string;
  hardScale: string;
  softScale: string;
  onehot: string;
}

export function distillationForward(g: GraphBuilder, x: DistillationInputs, labelCount: number, settings: DistillationSettings): { loss: string; saved: DistillationSaved } {
  const { temperature: T, alpha } = settings;
  const z = g.op("Reshape", [x.logits, g.int64([-1, labelCount])]); // (N, L)
  const t = g.op("Reshape", [x.teacherLogits, g.int64([-1, labelCount])]); // (N, L)
  const y = g.op("Reshape", [x.labels, g.int64([-1])]); // (N)
  const m = g.op("Reshape", [x.softMask, g.int64([-1])]); // (N)

  // Hard term: cross-entropy with the gold labels.
  const valid = g.op("Not", [g.op("Equal", [y, g.int64([IGNORE_INDEX], [])])]); // (N)
  const safeLabels = g.op("Where", [valid, y, g.int64([0], [])]); // (N)
  const validFloat = g.op("Cast", [valid], { to: 1 }); // (N)
  const w = x.classWeights ? g.op("Mul", [g.op("Gather", [x.classWeights, safeLabels]), validFloat]) : validFloat; // (N)
  const hardScale = g.op("Div", [w, g.op("Max", [g.op("ReduceSum", [w], { keepdims: 0 }), g.float([1e-12])])]); // (N)
  const logProbs = g.op("LogSoftmax", [z], { axis: -1 }); // (N, L)
  const onehot = g.op("OneHot", [safeLabels, g.int64([labelCount], []), g.float([0, 1], [2])], { axis: -1 }); // (N, L)
  const nll = g.op("Neg", [g.op("ReduceSum", [g.op("Mul", [logProbs, onehot]), g.int64([-1])], { keepdims: 0 })]); // (N)
  const ce = g.op("ReduceSum", [g.op("Mul", [nll, hardScale])], { keepdims: 0 }); // ()

  // Soft term: KL divergence from the teacher's tempered distribution to the student's.
  const invT = g.float([1 / T]);
  const teacherLogSoft = g.op("LogSoftmax", [g.op("Mul", [t, invT])], { axis: -1 }); // (N, L)
  const teacherSoft = g.op("Exp", [teacherLogSoft]); // (N, L)
  const studentLogSoft = g.op("LogSoftmax", [g.op("Mul", [z, invT])], { axis: -1 }); // (N, L)
  const kl = g.op("ReduceSum", [g.op("Mul", [teacherSoft, g.op("Sub", [teacherLogSoft, studentLogSoft])]), g.int64([-1])], { keepdims: 0 }); // (N)
  const softScale = g.op("Div", [m, g.op("Max", [g.op("ReduceSum", [m], { keepdims: 0 }), g.float([1])])]); // (N)
  const kd = g.op("ReduceSum", [g.op("Mul", [kl, softScale])], { keepdims: 0 }); // ()

  const loss = g.op("Add", [g.op("Mul", [ce, g.float([alpha])]), g.op("Mul", [kd, g.float([(1 - alpha) * T * T])])]); // ()
  return { loss, saved: { logProbs, studentSoft: g.op("Exp", [studentLogSoft]), teacherSoft, hardScale, softScale, onehot } };
}

export function distillationBackward(g: GraphBuilder, s: DistillationSaved, settings: DistillationSettings, logitsShape: string): string {
  const { temperature: T, alpha } = settings;
  const column = (v: string) => g.op("Unsqueeze", [v, g.int64([-1])]); // (N) → (N, 1)
  const hard = g.op("Mul", [g.op("Sub", [g.op("Exp", [s.logProbs]), s.onehot]), column(s.hardScale)]); // (N, L)
  const soft = g.op("Mul", [g.op("Sub", [s.studentSoft, s.teacherSoft]), column(s.softScale)]); // (N, L)
  const grad = g.op("Add", [g.op("Mul", [hard, g.float([alpha])]), g.op("Mul", [soft, g.float([(1 - alpha) * T])])]); // (N, L)
  return g.op("Reshape", [grad, logitsShape]); // (B, T, L)
}
