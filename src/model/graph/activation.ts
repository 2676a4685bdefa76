// Activations of the feed-forward block, forward and backward (transformers' ACT2FN names):
// gelu = 0.5 x (1 + erf(x/√2)), d/dx = 0.5 (1 + erf(x/√2)) + x φ(x) with φ the normal density;
// gelu_new = 0.5 x (1 + tanh(u)), u = √(2/π)(x + 0.044715 x³); relu.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { Activation } from "../architecture.js";

export interface ActivationSaved {
  kind: Activation;
  x: string;
}

export function activationForward(g: GraphBuilder, x: string, kind: Activation): { y: string; saved: ActivationSaved } {
  let y: string;
  if (kind === "relu") y = g.op("Relu", [x]);
  else if (kind === "gelu") {
    const erf = g.op("Erf", [g.op("Mul", [x, g.float([Math.SQRT1_2])])]);
    y = g.op("Mul", [g.op("Mul", [x, g.float([0.5])]), g.op("Add", [erf, g.float([1])])]);
  } else {
    const tanh = g.op("Tanh", [geluNewInner(g, x)]);
    y = g.op("Mul", [g.op("Mul", [x, g.float([0.5])]), g.op("Add", [tanh, g.float([1])])]);
  }
  return { y, saved: { kind, x } };
}

function geluNewInner(g: GraphBuilder, x: string): string {
  const cube = g.op("Mul", [g.op("Mul", [x, x]), x]);
  return g.op("Mul", [g.op("Add", [x, g.op("Mul", [cube, g.float([0.044715])])]), g.float([Math.sqrt(2 / Math.PI)])]);
}

export function activationBackward(g: GraphBuilder, s: ActivationSaved, dy: string): string {
  const x = s.x;
  let derivative: string;
  if (s.kind === "relu") {
    derivative = g.op("Cast", [g.op("Greater", [x, g.float([0])])], { to: 1 });
  } else if (s.kind === "gelu") {
    const cdf = g.op("Mul", [g.op("Add", [g.op("Erf", [g.op("Mul", [x, g.float([Math.SQRT1_2])])]), g.float([1])]), g.float([0.5])]);
    const density = g.op("Mul", [g.op("Exp", [g.op("Mul", [g.op("Mul", [x, x]), g.float([-0.5])])]), g.float([1 / Math.sqrt(2 * Math.PI)])]);
    derivative = g.op("Add", [cdf, g.op("Mul", [x, density])]);
  } else {
    // 0.5 (1 + t) + 0.5 x (1 − t²) u', t = tanh(u), u' = √(2/π)(1 + 3·0.044715 x²)
    const t = g.op("Tanh", [geluNewInner(g, x)]);
    const du = g.op("Mul", [g.op("Add", [g.op("Mul", [g.op("Mul", [x, x]), g.float([3 * 0.044715])]), g.float([1])]), g.float([Math.sqrt(2 / Math.PI)])]);
    const sech2 = g.op("Sub", [g.float([1]), g.op("Mul", [t, t])]);
    derivative = g.op("Add", [g.op("Mul", [g.op("Add", [t, g.float([1])]), g.float([0.5])]), g.op("Mul", [g.op("Mul", [g.op("Mul", [x, g.float([0.5])]), sech2]), du])]);
  }
  return g.op("Mul", [dy, derivative]);
}
