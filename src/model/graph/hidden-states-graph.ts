// An inference graph that outputs a model's hidden states at chosen layers (transformers'
// `hidden_states`: 0 the embeddings' output, l encoder layer l's output), for the teacher side of
// `nerkit distill --match-hidden`. The forward pass is ./encoder-layers.ts's (standard operators,
// what training differentiates, so the teacher's states are computed as the student's are), with
// the checkpoint's weights as initializers. Inputs as ./encoder.ts's graph; outputs
// "hidden_states.<l>" (B, T, H). Left out: the logits (the token classifier graph gives them).

import { DataType } from "../onnx/proto.js";
import { GraphBuilder } from "../onnx/graph-builder.js";
import { Architecture } from "../architecture.js";
import { parameterTable } from "../parameters.js";
import { encoderForward } from "./encoder-layers.js";
import { TensorLookup } from "./tensor.js";

export const hiddenStatesOutput = (layer: number) => `hidden_states.${layer}`;

export function buildHiddenStatesModel(arch: Architecture, weights: TensorLookup, layers: readonly number[]): Uint8Array {
  const g = new GraphBuilder();
  const shapes = new Map(parameterTable(arch).map((p) => [p.name, p.shape]));
  const added = new Set<string>();
  const weight = (name: string) => {
    if (!added.has(name)) g.lazyFloats(name, shapes.get(name)!, () => weights(name).data);
    added.add(name);
    return name;
  };
  const dims = ["batch", "tokens"];
  const ids = g.input("input_ids", DataType.INT64, dims);
  const mask = g.input("attention_mask", DataType.INT64, dims);
  const types = arch.modelType === "bert" ? g.input("token_type_ids", DataType.INT64, dims) : undefined;
  const { hidden } = encoderForward(g, arch, weight, ids, mask, types);
  for (const layer of layers) {
    g.ops("Identity", [hidden[layer]], {}, [hiddenStatesOutput(layer)]);
    g.output(hiddenStatesOutput(layer), DataType.FLOAT, [...dims, arch.hidden]);
  }
  return g.build(`${arch.modelType} hidden states at layers ${layers.join(", ")}`);
}
