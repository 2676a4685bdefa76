// LayerNorm over the last axis (torch.nn.LayerNorm), forward and backward, per row of H values:
// y = x̂ w + b with x̂ = (x − μ) σ⁻¹. ONNX's LayerNormalization also returns μ and σ⁻¹.
// Backward: dw = Σ dy x̂, db = Σ dy (over rows); with g = dy w,
// dx = σ⁻¹ (g − mean(g) − x̂ mean(g x̂)) (means over the row).

import { GraphBuilder } from "../onnx/graph-builder.js";
import { WeightInput } from "./linear.js";
import { GradientSink, rows } from "./gradients.js";

export interface LayerNormSaved {
  name: string;
  normalized: string;
  invStd: string;
  weight: string;
  hidden: number;
}

export function layerNormForward(g: GraphBuilder, x: string, weight: WeightInput, name: string, epsilon: number, hidden: number): { y: string; saved: LayerNormSaved } {
  const w = weight(`${name}.weight`);
  const [y, mean, invStd] = g.ops("LayerNormalization", [x, w, weight(`${name}.bias`)], { axis: -1, epsilon: { float: epsilon } }, 3);
  const normalized = g.op("Mul", [g.op("Sub", [x, mean]), invStd]);
  return { y, saved: { name, normalized, invStd, weight: w, hidden } };
}

export function layerNormBackward(g: GraphBuilder, s: LayerNormSaved, dy: string, sink: GradientSink): string {
  const dy2 = rows(g, dy, s.hidden);
  sink.add(`${s.name}.weight`, g.op("ReduceSum", [g.op("Mul", [dy2, rows(g, s.normalized, s.hidden)]), g.int64([0])], { keepdims: 0 }));
  sink.add(`${s.name}.bias`, g.op("ReduceSum", [dy2, g.int64([0])], { keepdims: 0 }));
  const gx = g.op("Mul", [dy, s.weight]);
  const meanG = g.op("ReduceMean", [gx], { axes: [-1], keepdims: 1 });
  const meanGx = g.op("ReduceMean", [g.op("Mul", [gx, s.normalized])], { axes: [-1], keepdims: 1 });
  const inner = g.op("Sub", [g.op("Sub", [gx, meanG]), g.op("Mul", [s.normalized, meanGx])]);
  return g.op("Mul", [inner, s.invStd]);
}
