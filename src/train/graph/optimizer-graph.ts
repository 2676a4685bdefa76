// Gradient clipping and the AdamW update as ONNX graphs. Formulas follow torch.optim.AdamW
// (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html) and torch.nn.utils.clip_grad_norm_:
//   ‖g‖ = √Σ g²;  g ← g · min(1, max_norm / (‖g‖ + 1e-6))
//   p ← p (1 − lr·λ)            (decoupled weight decay; λ = 0 for biases and LayerNorm weights)
//   m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// The bias corrections are computed by the caller in double precision and fed as scalars.
//
// The norm is part of the gradient graph (addGradNorm); the update is a graph of its own over one
// flat slice of the parameters (buildOptimizerGraph), which the runner runs slice by slice with its
// outputs written back into the input buffers. Why the update is not in the gradient graph:
// onnxruntime-node copies every output it returns into a new JavaScript buffer, preallocated or
// not, so a graph returning the updated parameters and both moments cost three more copies of
// them per step (bench/RESULTS.md, training memory, 2026-12-03); slice by slice, that copy is
// one slice's worth at a time.

import { DataType } from "../../model/onnx/proto.js";
import { GraphBuilder } from "../../model/onnx/graph-builder.js";
import { ParameterSpec } from "../../model/parameters.js";

/** Scalar inputs of the update, fed at every run; grad_norm is the gradient graph's output. */
export const OPTIMIZER_SCALARS = ["lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction1", "bias_correction2", "max_grad_norm", "grad_norm"] as const;
export type OptimizerScalar = (typeof OPTIMIZER_SCALARS)[number];

export const firstMomentName = (p: string) => `adam_m.${p}`;
export const secondMomentName = (p: string) => `adam_v.${p}`;
export const updatedName = (name: string) => `${name}.next`;

/** The flat slices one update run reads, and writes back as "<name>.next". */
export const OPTIMIZER_SLICES = ["param", "adam_m", "adam_v", "grad"] as const;

/** Adds "grad_norm", the L2 norm over all the gradients named in `grads` (before clipping), as an output. */
export function addGradNorm(g: GraphBuilder, grads: readonly string[]): void {
  const squares = grads.map((grad) => g.op("ReduceSum", [g.op("Mul", [grad, grad])], { keepdims: 0 }));
  const total = squares.length === 1 ? squares[0] : g.op("Sum", squares);
  g.ops("Sqrt", [total], {}, ["grad_norm"]);
  g.output("grad_norm", DataType.FLOAT, []);
}

/** The norm alone, over gradients fed as "grad.<name>" (gradient accumulation sums them first). */
export function buildGradNormGraph(parameters: readonly ParameterSpec[], gradName: (parameter: string) => string): Uint8Array {
  const g = new GraphBuilder();
  addGradNorm(g, parameters.map((p) => g.input(gradName(p.name), DataType.FLOAT, p.shape)));
  return g.build("gradient norm");
}

/**
 * Clipping and AdamW on one flat slice: "param", "adam_m", "adam_v" and "grad" (n) and the scalars
 * in; "param.next", "adam_m.next" and "adam_v.next" out. A slice without weight decay is fed
 * weight_decay 0, which makes the decay factor exactly 1.
 */
export function buildOptimizerGraph(): Uint8Array {
  const g = new GraphBuilder();
  const [param, m, v, gradient] = OPTIMIZER_SLICES.map((name) => g.input(name, DataType.FLOAT, ["n"]));
  const scalar = Object.fromEntries(OPTIMIZER_SCALARS.map((name) => [name, g.input(name, DataType.FLOAT, [])])) as Record<OptimizerScalar, string>;
  const clip = g.op("Min", [g.float([1]), g.op("Div", [scalar.max_grad_norm, g.op("Add", [scalar.grad_norm, g.float([1e-6])])])]);
  const one = g.float([1]);
  const stepSize = g.op("Div", [scalar.lr, scalar.bias_correction1]);
  const sqrtCorrection2 = g.op("Sqrt", [scalar.bias_correction2]);
  const decay = g.op("Sub", [one, g.op("Mul", [scalar.lr, scalar.weight_decay])]);

  const grad = g.op("Mul", [gradient, clip]); // (n)
  const decayed = g.op("Mul", [param, decay]); // (n)
  const m1 = g.op("Add", [g.op("Mul", [m, scalar.beta1]), g.op("Mul", [grad, g.op("Sub", [one, scalar.beta1])])]); // (n)
  const v1 = g.op("Add", [g.op("Mul", [v, scalar.beta2]), g.op("Mul", [g.op("Mul", [grad, grad]), g.op("Sub", [one, scalar.beta2])])]); // (n)
  const denominator = g.op("Add", [g.op("Div", [g.op("Sqrt", [v1]), sqrtCorrection2]), scalar.eps]); // (n)
  const step = g.op("Mul", [g.op("Div", [m1, denominator]), stepSize]); // (n)
  for (const [value, name] of [
    [g.op("Sub", [decayed, step]), updatedName(param)],
    [m1, updatedName(m)],
    [v1, updatedName(v)],
  ] as const) {
    g.ops("Identity", [value], {}, [name]);
    g.output(name, DataType.FLOAT, ["n"]);
  }
  return g.build("clipping and AdamW on one slice");
}
