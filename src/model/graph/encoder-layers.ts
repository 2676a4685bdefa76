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
import { DropoutSaved, DropoutSite, dropoutBackward, dropoutForward } from "./dropout.js";

interface LayerTape {
  attention: AttentionSaved;
  attentionDropout?: DropoutSaved;
  outputDropout?: DropoutSaved;
  attentionNorm: LayerNormSaved;
  intermediate: LinearSaved;
  activation: ActivationSaved;
  output: LinearSaved;
  outputNorm: LayerNormSaved;
}

export interface EncoderTape {
  embeddings: EmbeddingsSaved;
  embeddingsDropout?: DropoutSaved;
  layers: LayerTape[];
  classifierDropout?: DropoutSaved;
  classifier: LinearSaved;
}

/** Training's dropout: the architecture's probabilities, and the list each site's noise input joins. */
export interface DropoutPlan {
  hidden: number;
  attention: number;
  classifier: number;
  sites: DropoutSite[];
}

/** The additive attention bias from a (B, T) 0/1 mask: 0 where attended, float32's lowest where not: (B, 1, 1, T). */
export function attentionBias(g: GraphBuilder, mask: string): string {
  const masked = g.op("Sub", [g.float([1]), g.op("Cast", [mask], { to: 1 })]);
  return g.op("Unsqueeze", [g.op("Mul", [masked, g.float([-3.4028234663852886e38])]), g.int64([1, 2])]);
}

/**
 * `dense` replaces the encoder's Linear layers (int8 inference); the tape is then not for backward.
 * `hidden` are transformers' hidden_states: [0] the embeddings' output (after dropout), [l] layer l's output, (B, T, H) each.
 */
export function encoderForward(g: GraphBuilder, arch: Architecture, weight: WeightInput, ids: string, mask: string, typeIds?: string, dense?: LinearLayer, dropout?: DropoutPlan): { logits: string; tape: EncoderTape; hidden: string[] } {
  const names = modelNames(arch);
  const { hidden: H, intermediate: I } = arch;
  const hiddenDims = ["batch", "tokens", H];
  const drop = (x: string, p: number | undefined, name: string) => (dropout && p ? dropoutForward(g, x, p, { name, dims: hiddenDims }, dropout.sites) : { y: x, saved: undefined });
  const embeddings = g.scope("embeddings", () => embeddingsForward(g, arch, names, weight, ids, typeIds));
  const embeddingsDropout = drop(embeddings.y, dropout?.hidden, "embeddings");
  const bias = attentionBias(g, mask);
  let x = embeddingsDropout.y;
  const hidden = [x];
  const layers: LayerTape[] = [];
  names.layers.forEach((n, i) =>
    g.scope(`layer.${i}`, () => {
      const probsDropout = dropout?.attention ? { p: dropout.attention, name: `layer.${i}.attention_probs`, sites: dropout.sites } : undefined;
      const attention = attentionForward(g, x, bias, weight, { query: n.query, key: n.key, value: n.value, output: n.attentionOutput }, arch.heads, H, dense, probsDropout);
      const attentionDropout = drop(attention.y, dropout?.hidden, `layer.${i}.attention_output`);
      const attentionNorm = layerNormForward(g, g.op("Add", [attentionDropout.y, x]), weight, n.attentionNorm, arch.layerNormEps, H);
      const intermediate = linearForward(g, attentionNorm.y, weight, n.intermediate, H, I, dense);
      const activation = activationForward(g, intermediate.y, arch.activation);
      const output = linearForward(g, activation.y, weight, n.output, I, H, dense);
      const outputDropout = drop(output.y, dropout?.hidden, `layer.${i}.output`);
      const outputNorm = layerNormForward(g, g.op("Add", [outputDropout.y, attentionNorm.y]), weight, n.outputNorm, arch.layerNormEps, H);
      layers.push({
        attention: attention.saved,
        attentionDropout: attentionDropout.saved,
        outputDropout: outputDropout.saved,
        attentionNorm: attentionNorm.saved,
        intermediate: intermediate.saved,
        activation: activation.saved,
        output: output.saved,
        outputNorm: outputNorm.saved,
      });
      x = outputNorm.y;
      hidden.push(x);
    }),
  );
  const classifierDropout = drop(x, dropout?.classifier, "classifier");
  const classifier = linearForward(g, classifierDropout.y, weight, names.classifier, H, arch.labels.length);
  return {
    logits: classifier.y,
    hidden,
    tape: { embeddings: embeddings.saved, embeddingsDropout: embeddingsDropout.saved, layers, classifierDropout: classifierDropout.saved, classifier: classifier.saved },
  };
}

/**
 * Gradients of every parameter, into `sink`, from the gradient of the logits and, for a loss that
 * also reads hidden states (distillation's --match-hidden), of those: `dHidden` by hidden_states
 * index (0: embeddings' output, l: layer l's), each added where that state feeds the layers above.
 */
export function encoderBackward(g: GraphBuilder, arch: Architecture, tape: EncoderTape, dlogits: string, sink: GradientSink, dHidden: ReadonlyMap<number, string> = new Map()): void {
  const withHidden = (dx: string, index: number) => (dHidden.has(index) ? g.op("Add", [dx, dHidden.get(index)!]) : dx);
  let dx = dropoutBackward(g, tape.classifierDropout, linearBackward(g, tape.classifier, dlogits, sink));
  for (let i = tape.layers.length - 1; i >= 0; i--) {
    const layer = tape.layers[i];
    dx = withHidden(dx, i + 1);
    g.scope(`layer.${i}.backward`, () => {
      const dOutputSum = layerNormBackward(g, layer.outputNorm, dx, sink); // flows to the FFN and the residual
      const dActivation = linearBackward(g, layer.output, dropoutBackward(g, layer.outputDropout, dOutputSum), sink);
      const dIntermediate = activationBackward(g, layer.activation, dActivation);
      const dh = g.op("Add", [linearBackward(g, layer.intermediate, dIntermediate, sink), dOutputSum]);
      const dAttentionSum = layerNormBackward(g, layer.attentionNorm, dh, sink);
      dx = g.op("Add", [attentionBackward(g, layer.attention, dropoutBackward(g, layer.attentionDropout, dAttentionSum), sink), dAttentionSum]);
    });
  }
  const dEmbeddings = dropoutBackward(g, tape.embeddingsDropout, withHidden(dx, 0));
  g.scope("embeddings.backward", () => embeddingsBackward(g, arch, modelNames(arch), tape.embeddings, dEmbeddings, sink));
}
