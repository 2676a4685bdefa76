// The inference-only forward pass on ONNX Runtime's fused CPU kernels (the com.microsoft domain):
// Attention (one packed Q|K|V projection, masked softmax and the context product in one node),
// SkipLayerNormalization (residual + bias + LayerNorm) and BiasGelu / FastGelu. ONNX Runtime does
// not find these fusions in the graph training needs (./encoder-layers.ts keeps LayerNorm's saved
// statistics and explicit attention for the backward pass), so inference builds them itself.
// Weights are transposed to (in, out) here, once, so the graph holds no Transpose of a weight.
// The numbers equal the plain graph's to float rounding (test/model-logits.test.ts checks both).

import { NerkitError } from "../../errors.js";
import { GraphBuilder } from "../onnx/graph-builder.js";
import { DataType } from "../onnx/proto.js";
import { Architecture } from "../architecture.js";
import { modelNames } from "../parameters.js";
import { embeddingSum } from "./embeddings.js";
import { WeightInput } from "./linear.js";
import type { Tensor } from "./encoder.js";

/** Wᵀ of a (out, in) row-major matrix, as (in, out). */
function transposed(w: Tensor): Float32Array {
  const [rows, cols] = w.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const from = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[from + c];
  }
  return out;
}

/** [Wqᵀ | Wkᵀ | Wvᵀ] as (H, 3H), the layout Attention's weights input takes. */
function packedProjection(parts: readonly Tensor[], hidden: number): Float32Array {
  const out = new Float32Array(hidden * 3 * hidden);
  parts.forEach((w, p) => {
    for (let o = 0; o < hidden; o++) {
      const from = o * hidden;
      for (let i = 0; i < hidden; i++) out[i * 3 * hidden + p * hidden + o] = w.data[from + i];
    }
  });
  return out;
}

function concatenated(parts: readonly Tensor[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
  let at = 0;
  for (const t of parts) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/**
 * Logits (B, T, L) from ids and the 0/1 mask. `tensor` reads a checkpoint tensor (shape checked);
 * `weight` adds one to the graph under its checkpoint name.
 */
export function fusedEncoderForward(g: GraphBuilder, arch: Architecture, tensor: (name: string) => Tensor, weight: WeightInput, ids: string, mask: string, typeIds?: string): string {
  if (arch.hidden % arch.heads !== 0) throw new NerkitError("E_FORMAT", `hidden size ${arch.hidden} is not a multiple of ${arch.heads} heads`);
  const names = modelNames(arch);
  const H = arch.hidden;
  const epsilon = { float: arch.layerNormEps };
  /** A Linear's weight as (in, out), stored under `<name>.weight_t`. */
  const weightT = (name: string): string => {
    const w = tensor(`${name}.weight`);
    return g.initializer(`${name}.weight_t`, transposed(w), [w.shape[1], w.shape[0]]);
  };
  const normInputs = (name: string) => [weight(`${name}.weight`), weight(`${name}.bias`)];

  const { sum } = g.scope("embeddings", () => embeddingSum(g, arch, names, weight, ids, typeIds));
  let x = g.op("LayerNormalization", [sum, ...normInputs(names.embeddingNorm)], { axis: -1, epsilon });
  const maskIndex = g.op("Cast", [mask], { to: DataType.INT32 });
  names.layers.forEach((n, i) =>
    g.scope(`layer.${i}`, () => {
      const qkv = [n.query, n.key, n.value];
      const packedW = g.initializer(`${n.query}.qkv_weight`, packedProjection(qkv.map((p) => tensor(`${p}.weight`)), H), [H, 3 * H]);
      const packedB = g.initializer(`${n.query}.qkv_bias`, concatenated(qkv.map((p) => tensor(`${p}.bias`))), [3 * H]);
      const context = g.contrib("Attention", [x, packedW, packedB, maskIndex], { num_heads: arch.heads });
      const attended = g.op("MatMul", [context, weightT(n.attentionOutput)]);
      const h = g.contrib("SkipLayerNormalization", [attended, x, ...normInputs(n.attentionNorm), weight(`${n.attentionOutput}.bias`)], { epsilon });
      const up = g.op("MatMul", [h, weightT(n.intermediate)]);
      const upBias = weight(`${n.intermediate}.bias`);
      const activated =
        arch.activation === "gelu" ? g.contrib("BiasGelu", [up, upBias]) : arch.activation === "gelu_new" ? g.contrib("FastGelu", [up, upBias]) : g.op("Relu", [g.op("Add", [up, upBias])]);
      const down = g.op("MatMul", [activated, weightT(n.output)]);
      x = g.contrib("SkipLayerNormalization", [down, h, ...normInputs(n.outputNorm), weight(`${n.output}.bias`)], { epsilon });
    }),
  );
  return g.op("Add", [g.op("MatMul", [x, weightT(names.classifier)]), weight(`${names.classifier}.bias`)]);
}
