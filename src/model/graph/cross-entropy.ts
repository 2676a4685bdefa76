// The token-classification loss, forward and backward: mean cross-entropy over the tokens whose
// label is not -100 (torch.nn.CrossEntropyLoss(ignore_index=-100), optionally with class weights:
// Σ w_y · nll / Σ w_y). Shapes: B batch, T tokens, L labels, N = B·T.
// Backward: dlogits = (softmax − onehot(y)) · w_y · [y ≠ −100] / Σ w_y.

import { GraphBuilder } from "../onnx/graph-builder.js";

export const IGNORE_INDEX = -100;

export interface CrossEntropySaved {
  logProbs: string;
  labels: string;
  weights?: string;
  labelCount: number;
}

export function crossEntropyForward(g: GraphBuilder, logits: string, labels: string, labelCount: number, classWeights?: string): { loss: string; saved: CrossEntropySaved } {
  const flatLogits = g.op("Reshape", [logits, g.int64([-1, labelCount])]); // (N, L)
  const flatLabels = g.op("Reshape", [labels, g.int64([-1])]); // (N)
  const inputs = classWeights ? [flatLogits, flatLabels, classWeights] : [flatLogits, flatLabels];
  const [loss, logProbs] = g.ops("SoftmaxCrossEntropyLoss", inputs, { ignore_index: IGNORE_INDEX, reduction: "mean" }, 2);
  return { loss, saved: { logProbs, labels: flatLabels, weights: classWeights, labelCount } };
}

export function crossEntropyBackward(g: GraphBuilder, s: CrossEntropySaved, logitsShape: string): string {
  const valid = g.op("Not", [g.op("Equal", [s.labels, g.int64([IGNORE_INDEX], [])])]);
  const safeLabels = g.op("Where", [valid, s.labels, g.int64([0], [])]);
  const validFloat = g.op("Cast", [valid], { to: 1 }); // (N)
  const tokenWeights = s.weights ? g.op("Mul", [g.op("Gather", [s.weights, safeLabels]), validFloat]) : validFloat;
  const total = g.op("ReduceSum", [tokenWeights, g.int64([0])], { keepdims: 1 });
  const scale = g.op("Div", [tokenWeights, g.op("Max", [total, g.float([1e-12])])]); // (N)
  const onehot = g.op("OneHot", [safeLabels, g.int64([s.labelCount], []), g.float([0, 1], [2])], { axis: -1 }); // (N, L)
  const grad = g.op("Mul", [g.op("Sub", [g.op("Exp", [s.logProbs]), onehot]), g.op("Unsqueeze", [scale, g.int64([-1])])]);
  return g.op("Reshape", [grad, logitsShape]);
}
