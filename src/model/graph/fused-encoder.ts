// The inference-only forward pass on ONNX Runtime's fused CPU kernels (the com.microsoft domain):
// Attention (one packed Q|K|V projection, masked softmax and the context product in one node),
// SkipLayerNormalization (residual + bias + LayerNorm) and BiasGelu / FastGelu. ONNX Runtime does
// not find these fusions in the graph training needs (./encoder-layers.ts keeps LayerNorm's saved
// statistics and explicit attention for the backward pass), so inference builds them itself.
// Weights are transposed to (in, out) here, once, so the graph holds no Transpose of a weight; the
// transposed copies are written straight into the serialized model (GraphBuilder.deferredFloats).
// The numbers equal the plain graph's to float rounding (test/model-logits.test.ts checks both).

import { NerkitError } from "../../errors.js";
import { GraphBuilder } from "../onnx/graph-builder.js";
import { DataType } from "../onnx/proto.js";
import { Architecture } from "../architecture.js";
import { modelNames } from "../parameters.js";
import { embeddingSum } from "./embeddings.js";
import { WeightInput } from "./linear.js";
import { Tensor, TensorLookup, reusableBuffers } from "./tensor.js";

/**
 * Writes the weights of `parts` (each (out, in), row-major) side by side and transposed into `out`:
 * [W₁ᵀ | W₂ᵀ | …] as (in, Σ out). One part is a plain transpose; Q, K and V make the (H, 3H) layout
 * Attention's weights input takes.
 */
function transposeInto(out: Float32Array, parts: readonly Tensor[]): void {
  const width = parts.reduce((n, w) => n + w.shape[0], 0);
  let column = 0;
  for (const w of parts) {
    const [rows, cols] = w.shape;
    for (let r = 0; r < rows; r++) {
      const from = r * cols;
      for (let c = 0; c < cols; c++) out[c * width + column + r] = w.data[from + c];
    }
    column += rows;
  }
}

function concatenateInto(out: Float32Array, parts: readonly Tensor[]): void {
  let at = 0;
  for (const t of parts) {
    out.set(t.data, at);
    at += t.data.length;
  }
}

/**
 * Logits (B, T, L) from ids and the 0/1 mask. `tensor` reads a checkpoint tensor (shape checked);
 * `weight` adds one to the graph under its checkpoint name.
 */
export function fusedEncoderForward(g: GraphBuilder, arch: Architecture, tensor: TensorLookup, shapes: (name: string) => readonly number[], weight: WeightInput, ids: string, mask: string, typeIds?: string, buffer = reusableBuffers()): string {
  if (arch.hidden % arch.heads !== 0) throw new NerkitError("E_FORMAT", `hidden size ${arch.hidden} is not a multiple of ${arch.heads} heads`);
  const names = modelNames(arch);
  const H = arch.hidden;
  const epsilon = { float: arch.layerNormEps };
  // Derived weights are read from the checkpoint when the model is serialized, not now (deferredFloats),
  // each part into a buffer reused from one weight to the next (`buffer`, shared with the caller's).
  /** Linear layers' weights side by side as (in, Σ out), stored under `stored`. */
  const transposedWeights = (stored: string, names: readonly string[]): string => {
    const outs = names.map((n) => shapes(`${n}.weight`)[0]);
    const inputs = shapes(`${names[0]}.weight`)[1];
    return g.deferredFloats(stored, [inputs, outs.reduce((a, b) => a + b, 0)], (out) => transposeInto(out, names.map((n, i) => tensor(`${n}.weight`, buffer(i, outs[i] * inputs)))));
  };
  /** A Linear's weight as (in, out), stored under `<name>.weight_t`. */
  const weightT = (name: string): string => transposedWeights(`${name}.weight_t`, [name]);
  const normInputs = (name: string) => [weight(`${name}.weight`), weight(`${name}.bias`)];

  const { sum } = g.scope("embeddings", () => embeddingSum(g, arch, names, weight, ids, typeIds));
  let x = g.op("LayerNormalization", [sum, ...normInputs(names.embeddingNorm)], { axis: -1, epsilon });
  const maskIndex = g.op("Cast", [mask], { to: DataType.INT32 });
  names.layers.forEach((n, i) =>
    g.scope(`layer.${i}`, () => {
      const qkv = [n.query, n.key, n.value];
      const packedW = transposedWeights(`${n.query}.qkv_weight`, qkv);
      const packedB = g.deferredFloats(`${n.query}.qkv_bias`, [3 * H], (out) => concatenateInto(out, qkv.map((p) => tensor(`${p}.bias`))));
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
