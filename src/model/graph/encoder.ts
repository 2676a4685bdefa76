// The inference graph of a token classifier: the checkpoint's weights as initializers and the
// forward pass of ./encoder-layers.ts (shared with training). Inputs: input_ids and
// attention_mask (B, T) int64, plus token_type_ids for models that have segment embeddings;
// output: logits (B, T, L). Dropout is left out: this graph is for inference. By default the
// layers are ONNX Runtime's fused kernels (./fused-encoder.ts); `fused: false` gives the same
// forward pass in standard operators (./encoder-layers.ts).

import { NerkitError } from "../../errors.js";
import { DataType, Message } from "../onnx/proto.js";
import { GraphBuilder } from "../onnx/graph-builder.js";
import { Architecture } from "../architecture.js";
import { parameterTable } from "../parameters.js";
import { encoderForward } from "./encoder-layers.js";
import { fusedEncoderForward } from "./fused-encoder.js";
import { LinearLayer, WeightInput } from "./linear.js";
import { Tensor, TensorLookup, reusableBuffers } from "./tensor.js";

// Re-exported: callers have always taken Tensor from here.
export type { Tensor };

/** Graph inputs each architecture takes, in order. */
export function graphInputs(arch: Architecture): string[] {
  return arch.modelType === "bert" ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
}

export interface BuildOptions {
  /**
   * Builds the encoder's Linear layers (the classifier stays float); float MatMul when absent.
   * `tensor` reads a checkpoint tensor, its shape checked; `weight` adds one to the graph.
   */
  linear?: (tensor: (name: string) => Tensor, weight: WeightInput) => LinearLayer;
  /** Appended to the model's doc string (what was done to the weights). */
  note?: string;
  /**
   * ONNX Runtime's fused kernels (./fused-encoder.ts; default) or standard ONNX operators only
   * (./encoder-layers.ts, what training differentiates). `linear` implies the standard graph.
   */
  fused?: boolean;
}

export function buildTokenClassifier(arch: Architecture, weights: TensorLookup, options: BuildOptions = {}): Uint8Array {
  return tokenClassifierMessage(arch, weights, options).finish();
}

/**
 * The same model as chunks not yet joined (../onnx/proto.ts's Message): a session writes them to a
 * file for ONNX Runtime (../onnx/model-file.ts) without ever holding the whole model.
 */
export function tokenClassifierMessage(arch: Architecture, weights: TensorLookup, options: BuildOptions = {}): Message {
  const g = new GraphBuilder();
  const shapes = new Map(parameterTable(arch).map((p) => [p.name, p.shape]));
  const added = new Set<string>();
  // Slot 0: plain weights as they are written; fused-encoder.ts reads the parts of derived ones into
  // the same slots (serialization writes one weight at a time).
  const buffer = reusableBuffers();
  const checked = (name: string, into?: Float32Array): Tensor => {
    const tensor = weights(name, into);
    const expected = shapes.get(name);
    if (expected && expected.join(",") !== tensor.shape.join(",")) {
      throw new NerkitError("E_FORMAT", `tensor ${name} has shape [${tensor.shape.join(", ")}] but config.json implies [${expected.join(", ")}]${name.startsWith("classifier") ? " (id2label and the classifier disagree on the number of labels)" : ""}`);
    }
    return { shape: expected ?? tensor.shape, data: tensor.data };
  };
  const weight: WeightInput = (name) => {
    if (added.has(name)) return name;
    added.add(name);
    const expected = shapes.get(name);
    // A weight of the parameter table is read when the model is serialized (its shape checked then),
    // so that no copy of it waits in the graph; any other is read now, for its shape.
    if (expected) {
      const count = expected.reduce((a, b) => a * b, 1);
      return g.lazyFloats(name, expected, () => checked(name, buffer(0, count)).data);
    }
    const tensor = checked(name);
    return g.initializer(name, tensor.data, tensor.shape);
  };
  const dims = ["batch", "tokens"];
  const ids = g.input("input_ids", DataType.INT64, dims);
  const mask = g.input("attention_mask", DataType.INT64, dims);
  const types = arch.modelType === "bert" ? g.input("token_type_ids", DataType.INT64, dims) : undefined;
  if ((options.fused ?? true) && !options.linear) fusedEncoderForward(g, arch, checked, (name) => shapes.get(name) ?? checked(name).shape, weight, ids, mask, types, buffer);
  else encoderForward(g, arch, weight, ids, mask, types, options.linear?.(checked, weight));
  g.nameLast("logits");
  g.output("logits", DataType.FLOAT, ["batch", "tokens", arch.labels.length]);
  const note = options.note ? `; ${options.note}` : "";
  return g.message(`${arch.modelType} token classifier, ${arch.layers} layers, hidden ${arch.hidden}, ${arch.labels.length} labels${note}`);
}
