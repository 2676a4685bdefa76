// Multi-head self-attention, forward and backward. Shapes: B batch, T tokens, H hidden, A heads,
// D = H / A. Forward: q, k, v = heads(x Wqᵀ + bq, …) (B, A, T, D); s = q kᵀ / √D + bias;
// p = softmax(s) (B, A, T, T); c = p v; out = join(c) Woᵀ + bo.
// Backward: dp = dc vᵀ, dv = pᵀ dc; ds = p ⊙ (dp − Σ dp ⊙ p) (row sums); dq = ds k / √D,
// dk = dsᵀ q / √D; then each projection's linear backward, the three input gradients summed.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { GradientSink } from "./gradients.js";
import { LinearLayer, LinearSaved, WeightInput, linearBackward, linearForward } from "./linear.js";
import { DropoutSaved, DropoutSite, dropoutBackward, dropoutForward } from "./dropout.js";

export interface AttentionNames {
  query: string;
  key: string;
  value: string;
  output: string;
}

export interface AttentionSaved {
  q: string;
  k: string;
  v: string;
  /** The attention probabilities after dropout (what multiplies v). */
  probs: string;
  /** Before dropout (what the softmax backward needs). */
  softmax: string;
  probsDropout?: DropoutSaved;
  projections: { query: LinearSaved; key: LinearSaved; value: LinearSaved; output: LinearSaved };
  heads: number;
  hidden: number;
}

/** (B, T, H) -> (B, A, T, D) */
function splitHeads(g: GraphBuilder, x: string, heads: number, hidden: number): string {
  return g.op("Transpose", [g.op("Reshape", [x, g.int64([0, 0, heads, hidden / heads])])], { perm: [0, 2, 1, 3] });
}

/** (B, A, T, D) -> (B, T, H) */
function joinHeads(g: GraphBuilder, x: string, hidden: number): string {
  return g.op("Reshape", [g.op("Transpose", [x], { perm: [0, 2, 1, 3] }), g.int64([0, 0, hidden])]);
}

/** Dropout on the attention probabilities in training: probability and where the site's noise input goes. */
export interface AttentionDropout {
  p: number;
  name: string;
  sites: DropoutSite[];
}

export function attentionForward(g: GraphBuilder, x: string, bias: string, weight: WeightInput, names: AttentionNames, heads: number, hidden: number, dense?: LinearLayer, dropout?: AttentionDropout): { y: string; saved: AttentionSaved } {
  const query = linearForward(g, x, weight, names.query, hidden, hidden, dense);
  const key = linearForward(g, x, weight, names.key, hidden, hidden, dense);
  const value = linearForward(g, x, weight, names.value, hidden, hidden, dense);
  const q = splitHeads(g, query.y, heads, hidden);
  const k = splitHeads(g, key.y, heads, hidden);
  const v = splitHeads(g, value.y, heads, hidden);
  const kT = g.op("Transpose", [k], { perm: [0, 1, 3, 2] }); // (B, A, D, T)
  const scores = g.op("Add", [g.op("Div", [g.op("MatMul", [q, kT]), g.float([Math.sqrt(hidden / heads)])]), bias]);
  const softmax = g.op("Softmax", [scores], { axis: -1 });
  const dropped = dropout ? dropoutForward(g, softmax, dropout.p, { name: dropout.name, dims: ["batch", heads, "tokens", "tokens"] }, dropout.sites) : { y: softmax };
  const probs = dropped.y;
  const context = joinHeads(g, g.op("MatMul", [probs, v]), hidden);
  const output = linearForward(g, context, weight, names.output, hidden, hidden, dense);
  return { y: output.y, saved: { q, k, v, probs, softmax, probsDropout: dropped.saved, projections: { query: query.saved, key: key.saved, value: value.saved, output: output.saved }, heads, hidden } };
}

export function attentionBackward(g: GraphBuilder, s: AttentionSaved, dy: string, sink: GradientSink): string {
  const swap = (t: string) => g.op("Transpose", [t], { perm: [0, 1, 3, 2] });
  const dc = splitHeads(g, linearBackward(g, s.projections.output, dy, sink), s.heads, s.hidden); // (B, A, T, D)
  const dv = g.op("MatMul", [swap(s.probs), dc]);
  const dp = dropoutBackward(g, s.probsDropout, g.op("MatMul", [dc, swap(s.v)])); // (B, A, T, T), before dropout
  const rowSum = g.op("ReduceSum", [g.op("Mul", [dp, s.softmax]), g.int64([-1])], { keepdims: 1 });
  const ds = g.op("Div", [g.op("Mul", [s.softmax, g.op("Sub", [dp, rowSum])]), g.float([Math.sqrt(s.hidden / s.heads)])]);
  const dq = g.op("MatMul", [ds, s.k]);
  const dk = g.op("MatMul", [swap(ds), s.q]);
  const dxq = linearBackward(g, s.projections.query, joinHeads(g, dq, s.hidden), sink);
  const dxk = linearBackward(g, s.projections.key, joinHeads(g, dk, s.hidden), sink);
  const dxv = linearBackward(g, s.projections.value, joinHeads(g, dv, s.hidden), sink);
  return g.op("Add", [g.op("Add", [dxq, dxk]), dxv]);
}
