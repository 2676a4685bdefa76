// The token classifier's forward pass as a tape of saved tensors, and the backward pass that
// replays the tape in reverse. Shapes: B batch, T tokens, H hidden, I feed-forward, L labels.
// Each encoder layer is post-norm: h = LN(x + attention(x)); y = LN(h + W₂ act(W₁ h)).

import { GraphBuilder } from "../onnx/graph-builder.js";
import { Architecture } from "../architecture.js";
import { modelNames } from "../parameters.js";
import { ActivationSaved, activationBackward, activationForward } from "./activation.js";
import { AttentionSaved, attentionBackward, attentionForward } from "./attention.js";
import { EmbeddingsSaved, embeddingsBackward, embeddingsForward } from "./embeddings.js";
import { GradientSink } from "./gradients.js";
import { LayerNormSaved, layerNormBackward, layerNormForward } from "./layer-norm.js";
import { LinearLayer, LinearSaved, WeightInput, linearBackward, linearForward } from "./linear.js";

interface LayerTape {
  attention: AttentionSaved;
  attentionNorm: LayerNormSaved;
  intermediate: LinearSaved;
  activation: ActivationSaved;
  output: LinearSaved;
  outputNorm: LayerNormSaved;
}

export interface EncoderTape {
  embeddings: EmbeddingsSaved;
  layers: LayerTape[];
  classifier: LinearSaved;
}

/** The additive attention bias from a (B, T) 0/1 mask: 0 where attended, float32's lowest where not: (B, 1, 1, T). */
export function attentionBias(g: GraphBuilder, mask: string): string {
  const masked = g.op("Sub", [g.float([1]), g.op("Cast", [mask], { to: 1 })]);
  return g.op("Unsqueeze", [g.op("Mul", [masked, g.float([-3.4028234663852886e38])]), g.int64([1, 2])]);
}

/** `dense` replaces the encoder's Linear layers (int8 inference); the tape is then not for backward. */
export function encoderForward(g: GraphBuilder, arch: Architecture, weight: WeightInput, ids: string, mask: string, typeIds?: string, dense?: LinearLayer): { logits: string; tape: EncoderTape } {
  const names = modelNames(arch);
  const { hidden: H, intermediate: I } = arch;
  const embeddings = g.scope("embeddings", () => embeddingsForward(g, arch, names, weight, ids, typeIds));
  const bias = attentionBias(g, mask);
  let x = embeddings.y;
  const layers: LayerTape[] = [];
  names.layers.forEach((n, i) =>
    g.scope(`layer.${i}`, () => {
      const attention = attentionForward(g, x, bias, weight, { query: n.query, key: n.key, value: n.value, output: n.attentionOutput }, arch.heads, H, dense);
      const attentionNorm = layerNormForward(g, g.op("Add", [attention.y, x]), weight, n.attentionNorm, arch.layerNormEps, H);
      const intermediate = linearForward(g, attentionNorm.y, weight, n.intermediate, H, I, dense);
      const activation = activationForward(g, intermediate.y, arch.activation);
      const output = linearForward(g, activation.y, weight, n.output, I, H, dense);
      const outputNorm = layerNormForward(g, g.op("Add", [output.y, attentionNorm.y]), weight, n.outputNorm, arch.layerNormEps, H);
      layers.push({
        attention: attention.saved,
        attentionNorm: attentionNorm.saved,
        intermediate: intermediate.saved,
        activation: activation.saved,
        output: output.saved,
        outputNorm: outputNorm.saved,
      });
      x = outputNorm.y;
    }),
  );
  const classifier = linearForward(g, x, weight, names.classifier, H, arch.labels.length);
  return { logits: classifier.y, tape: { embeddings: embeddings.saved, layers, classifier: classifier.saved } };
}

/** Gradients of every parameter, into `sink`, from the gradient of the logits. */
export function encoderBackward(g: GraphBuilder, arch: Architecture, tape: EncoderTape, dlogits: string, sink: GradientSink): void {
  let dx = linearBackward(g, tape.classifier, dlogits, sink);
  for (let i = tape.layers.length - 1; i >= 0; i--) {
    const layer = tape.layers[i];
    g.scope(`layer.${i}.backward`, () => {
      const dOutputSum = layerNormBackward(g, layer.outputNorm, dx, sink); // flows to the FFN and the residual
      const dActivation = linearBackward(g, layer.output, dOutputSum, sink);
      const dIntermediate = activationBackward(g, layer.activation, dActivation);
      const dh = g.op("Add", [linearBackward(g, layer.intermediate, dIntermediate, sink), dOutputSum]);
      const dAttentionSum = layerNormBackward(g, layer.attentionNorm, dh, sink);
      dx = g.op("Add", [attentionBackward(g, layer.attention, dAttentionSum, sink), dAttentionSum]);
    });
  }
  g.scope("embeddings.backward", () => embeddingsBackward(g, arch, modelNames(arch), tape.embeddings, dx, sink));
}
