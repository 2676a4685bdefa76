// The forward pass of a BERT-family encoder as ONNX nodes, one small builder per layer kind.
// Shapes: B batch, T tokens, H hidden, A heads, D = H / A head size, I feed-forward size,
// L labels. Weights are read from the checkpoint by name (see ../parameters.ts); Linear weights
// stay in PyTorch's (out, in) layout and are transposed in the graph, which ONNX Runtime folds
// into the initializer once when the session is created.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { Activation } from "../architecture.js";

/** Finds a checkpoint tensor by name and adds it to the graph once. */
export type WeightInput = (name: string) => string;

/** Builds the Linear layer a checkpoint name stands for: `linear` below, or int8 (../export/int8-linear.ts). */
export type LinearLayer = (g: GraphBuilder, x: string, name: string) => string;

/** y = x Wᵀ + b for x (…, in), W (out, in): (…, out). */
export function linear(g: GraphBuilder, x: string, weight: WeightInput, name: string): string {
  const wT = g.op("Transpose", [weight(`${name}.weight`)], { perm: [1, 0] });
  return g.op("Add", [g.op("MatMul", [x, wT]), weight(`${name}.bias`)]);
}

/** LayerNorm over the last axis (torch.nn.LayerNorm). */
export function layerNorm(g: GraphBuilder, x: string, weight: WeightInput, name: string, epsilon: number): string {
  return g.op("LayerNormalization", [x, weight(`${name}.weight`), weight(`${name}.bias`)], { axis: -1, epsilon: { float: epsilon } });
}

/** transformers' ACT2FN: "gelu" is the exact erf form, "gelu_new" the tanh approximation. */
export function activation(g: GraphBuilder, x: string, kind: Activation): string {
  if (kind === "relu") return g.op("Relu", [x]);
  if (kind === "gelu") {
    // 0.5 · x · (1 + erf(x / √2))
    const erf = g.op("Erf", [g.op("Mul", [x, g.float([Math.SQRT1_2])])]);
    return g.op("Mul", [g.op("Mul", [x, g.float([0.5])]), g.op("Add", [erf, g.float([1])])]);
  }
  // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
  const cube = g.op("Mul", [g.op("Mul", [x, x]), x]);
  const inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [cube, g.float([0.044715])])]), g.float([Math.sqrt(2 / Math.PI)])]);
  return g.op("Mul", [g.op("Mul", [x, g.float([0.5])]), g.op("Add", [g.op("Tanh", [inner]), g.float([1])])]);
}

/** The additive attention bias from a (B, T) 0/1 mask: 0 where attended, float32's lowest where not: (B, 1, 1, T). */
export function attentionBias(g: GraphBuilder, mask: string): string {
  const keep = g.op("Cast", [mask], { to: 1 }); // (B, T) float
  const masked = g.op("Sub", [g.float([1]), keep]);
  const bias = g.op("Mul", [masked, g.float([-3.4028234663852886e38])]);
  return g.op("Unsqueeze", [bias, g.int64([1, 2])]);
}

export interface AttentionNames {
  query: string;
  key: string;
  value: string;
  output: string;
}

/** Multi-head self-attention: softmax(Q Kᵀ / √D + bias) V, heads joined, then the output projection. */
export function selfAttention(
  g: GraphBuilder,
  x: string,
  bias: string,
  weight: WeightInput,
  names: AttentionNames,
  heads: number,
  hidden: number,
  dense: LinearLayer = (g, x, name) => linear(g, x, weight, name),
): string {
  const D = hidden / heads;
  const toHeads = g.int64([0, 0, heads, D]);
  const split = (projected: string, perm: number[]) => g.op("Transpose", [g.op("Reshape", [projected, toHeads])], { perm });
  const q = split(dense(g, x, names.query), [0, 2, 1, 3]); // (B, A, T, D)
  const kT = split(dense(g, x, names.key), [0, 2, 3, 1]); // (B, A, D, T)
  const v = split(dense(g, x, names.value), [0, 2, 1, 3]); // (B, A, T, D)
  const scores = g.op("Add", [g.op("Div", [g.op("MatMul", [q, kT]), g.float([Math.sqrt(D)])]), bias]); // (B, A, T, T)
  const context = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]); // (B, A, T, D)
  const joined = g.op("Reshape", [g.op("Transpose", [context], { perm: [0, 2, 1, 3] }), g.int64([0, 0, hidden])]); // (B, T, H)
  return dense(g, joined, names.output);
}

/** (B, T) int64 position ids 0..T-1, broadcast over the batch: (1, T). */
export function positionRange(g: GraphBuilder, ids: string): string {
  const length = g.op("Gather", [g.op("Shape", [ids]), g.int64([1], [])], { axis: 0 });
  const range = g.op("Range", [g.int64([0], []), length, g.int64([1], [])]);
  return g.op("Unsqueeze", [range, g.int64([0])]);
}

/** RoBERTa's positions: padding keeps padTokenId; real tokens count up from padTokenId + 1. (B, T). */
export function paddingOffsetPositions(g: GraphBuilder, ids: string, padTokenId: number): string {
  const notPad = g.op("Cast", [g.op("Not", [g.op("Equal", [ids, g.int64([padTokenId], [])])])], { to: 7 });
  const counted = g.op("Mul", [g.op("CumSum", [notPad, g.int64([1], [])]), notPad]);
  return g.op("Add", [counted, g.int64([padTokenId], [])]);
}
