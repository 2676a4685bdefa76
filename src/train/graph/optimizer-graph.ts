// Gradient clipping and the AdamW update as graph nodes, so that a whole training step runs in
// ONNX Runtime. Formulas follow torch.optim.AdamW (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html)
// and torch.nn.utils.clip_grad_norm_:
//   ‖g‖ = √Σ g²;  g ← g · min(1, max_norm / (‖g‖ + 1e-6))
//   p ← p (1 − lr·λ)            (decoupled weight decay; λ = 0 for biases and LayerNorm weights)
//   m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// The bias corrections are computed by the caller in double precision and fed as scalars.

import { DataType } from "../../model/onnx/proto.js";
import { GraphBuilder } from "../../model/onnx/graph-builder.js";
import { ParameterSpec } from "../../model/parameters.js";

/** Scalar inputs of the optimizer, fed every step. */
export const OPTIMIZER_SCALARS = ["lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction1", "bias_correction2", "max_grad_norm"] as const;
export type OptimizerScalar = (typeof OPTIMIZER_SCALARS)[number];

export const firstMomentName = (p: string) => `adam_m.${p}`;
export const secondMomentName = (p: string) => `adam_v.${p}`;
export const updatedName = (name: string) => `${name}.next`;

/**
 * Adds clipping and AdamW for `parameters`, whose gradients are the tensors named in `grads`.
 * Inputs added: the moments of each parameter and the scalars; outputs: the updated parameter and
 * moments ("<name>.next") and "grad_norm", the norm before clipping.
 */
export function addOptimizer(g: GraphBuilder, parameters: readonly ParameterSpec[], grads: ReadonlyMap<string, string>): void {
  const scalar = Object.fromEntries(OPTIMIZER_SCALARS.map((name) => [name, g.input(name, DataType.FLOAT, [])])) as Record<OptimizerScalar, string>;
  const squares = parameters.map((p) => g.op("ReduceSum", [g.op("Mul", [grads.get(p.name)!, grads.get(p.name)!])], { keepdims: 0 }));
  const total = squares.length === 1 ? squares[0] : g.op("Sum", squares);
  const norm = g.op("Sqrt", [total]);
  g.ops("Identity", [norm], {}, ["grad_norm"]);
  g.output("grad_norm", DataType.FLOAT, []);
  const clip = g.op("Min", [g.float([1]), g.op("Div", [scalar.max_grad_norm, g.op("Add", [norm, g.float([1e-6])])])]);
  const one = g.float([1]);
  const stepSize = g.op("Div", [scalar.lr, scalar.bias_correction1]);
  const sqrtCorrection2 = g.op("Sqrt", [scalar.bias_correction2]);
  const decay = g.op("Sub", [one, g.op("Mul", [scalar.lr, scalar.weight_decay])]);

  for (const p of parameters) {
    g.scope(`adamw/${p.name}`, () => {
      const m = g.input(firstMomentName(p.name), DataType.FLOAT, p.shape);
      const v = g.input(secondMomentName(p.name), DataType.FLOAT, p.shape);
      const grad = g.op("Mul", [grads.get(p.name)!, clip]);
      const decayed = p.decay ? g.op("Mul", [p.name, decay]) : p.name;
      const m1 = g.op("Add", [g.op("Mul", [m, scalar.beta1]), g.op("Mul", [grad, g.op("Sub", [one, scalar.beta1])])]);
      const v1 = g.op("Add", [g.op("Mul", [v, scalar.beta2]), g.op("Mul", [g.op("Mul", [grad, grad]), g.op("Sub", [one, scalar.beta2])])]);
      const denominator = g.op("Add", [g.op("Div", [g.op("Sqrt", [v1]), sqrtCorrection2]), scalar.eps]);
      const step = g.op("Mul", [g.op("Div", [m1, denominator]), stepSize]);
      for (const [value, name, shape] of [
        [g.op("Sub", [decayed, step]), updatedName(p.name), p.shape],
        [m1, updatedName(firstMomentName(p.name)), p.shape],
        [v1, updatedName(secondMomentName(p.name)), p.shape],
      ] as const) {
        g.ops("Identity", [value], {}, [name]);
        g.output(name, DataType.FLOAT, shape);
      }
    });
  }
}
