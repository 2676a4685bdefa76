// Linear layer, forward and backward. y = x Wᵀ + b with x (…, I), W (O, I), b (O): (…, O).
// Backward: dx = dy W; dW = dyᵀ x over all leading axes, (O, I); db = Σ dy, (O).

import { GraphBuilder } from "../onnx/graph-builder.js";
import { GradientSink, rows } from "./gradients.js";

/** Finds a tensor by checkpoint name: an initializer (inference) or a graph input (training). */
export type WeightInput = (name: string) => string;

/**
 * Builds the Linear layer a checkpoint name stands for, for inference graphs that replace the float
 * MatMul (int8, ../export/int8-linear.ts). Such graphs have no backward pass.
 */
export type LinearLayer = (g: GraphBuilder, x: string, name: string) => string;

export interface LinearSaved {
  name: string;
  x: string;
  weight: string;
  inputs: number;
  outputs: number;
}

export function linearForward(g: GraphBuilder, x: string, weight: WeightInput, name: string, inputs: number, outputs: number, replacement?: LinearLayer): { y: string; saved: LinearSaved } {
  if (replacement) return { y: replacement(g, x, name), saved: { name, x, weight: "", inputs, outputs } };
  const w = weight(`${name}.weight`);
  const wT = g.op("Transpose", [w], { perm: [1, 0] });
  const y = g.op("Add", [g.op("MatMul", [x, wT]), weight(`${name}.bias`)]);
  return { y, saved: { name, x, weight: w, inputs, outputs } };
}

export function linearBackward(g: GraphBuilder, s: LinearSaved, dy: string, sink: GradientSink): string {
  const dy2 = rows(g, dy, s.outputs); // (N, O)
  sink.add(`${s.name}.weight`, g.op("MatMul", [g.op("Transpose", [dy2], { perm: [1, 0] }), rows(g, s.x, s.inputs)])); // (O, I)
  sink.add(`${s.name}.bias`, g.op("ReduceSum", [dy2, g.int64([0])], { keepdims: 0 })); // (O)
  return g.op("MatMul", [dy, s.weight]); // (…, I)
}
