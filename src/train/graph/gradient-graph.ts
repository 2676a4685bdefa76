// The graph of one forward and backward pass for training: batch and parameters in, the mean
// cross-entropy loss and every parameter's gradient out. Parameters are graph inputs (named as in
// the checkpoint), so one session serves every step; gradients are outputs named "grad.<name>".

import { DataType } from "../../model/onnx/proto.js";
import { GraphBuilder } from "../../model/onnx/graph-builder.js";
import { Architecture } from "../../model/architecture.js";
import { ParameterSpec, parameterTable } from "../../model/parameters.js";
import { GradientSink } from "../../model/graph/gradients.js";
import { crossEntropyBackward, crossEntropyForward } from "../../model/graph/cross-entropy.js";
import { encoderBackward, encoderForward } from "../../model/graph/encoder-layers.js";
import { DropoutSite } from "../../model/graph/dropout.js";

export interface GradientGraphOptions {
  /** Take a (L) class-weight input for the loss. */
  classWeights?: boolean;
}

export interface BuiltGraph {
  model: Uint8Array;
  parameters: ParameterSpec[];
  /** Dropout noise inputs (uint16), one per site, with their shapes. */
  dropoutSites: DropoutSite[];
  /** Batch inputs in order (input_ids, attention_mask, [token_type_ids], labels, [class_weights]). */
  batchInputs: string[];
}

export const gradName = (parameter: string) => `grad.${parameter}`;

/** Adds the forward and backward pass to `g`; returns the loss and the gradient tensor of each parameter. */
export function addForwardBackward(g: GraphBuilder, arch: Architecture, options: GradientGraphOptions = {}): { loss: string; grads: Map<string, string>; batchInputs: string[]; parameters: ParameterSpec[]; dropoutSites: DropoutSite[] } {
  const parameters = parameterTable(arch);
  for (const p of parameters) g.input(p.name, DataType.FLOAT, p.shape);
  const dims = ["batch", "tokens"];
  const ids = g.input("input_ids", DataType.INT64, dims);
  const mask = g.input("attention_mask", DataType.INT64, dims);
  const typeIds = arch.modelType === "bert" ? g.input("token_type_ids", DataType.INT64, dims) : undefined;
  const labels = g.input("labels", DataType.INT64, dims);
  const weights = options.classWeights ? g.input("class_weights", DataType.FLOAT, [arch.labels.length]) : undefined;

  const dropoutSites: DropoutSite[] = [];
  const { logits, tape } = encoderForward(g, arch, (name) => name, ids, mask, typeIds, undefined, { ...arch.dropout, sites: dropoutSites });
  const ce = crossEntropyForward(g, logits, labels, arch.labels.length, weights);
  const sink = new GradientSink(g);
  encoderBackward(g, arch, tape, crossEntropyBackward(g, ce.saved, g.op("Shape", [logits])), sink);
  for (const p of parameters) {
    if (!sink.grads.has(p.name)) throw new Error(`no gradient reaches ${p.name}`);
  }
  const batchInputs = ["input_ids", "attention_mask", ...(typeIds ? ["token_type_ids"] : []), "labels", ...(weights ? ["class_weights"] : [])];
  return { loss: ce.loss, grads: sink.grads, batchInputs, parameters, dropoutSites };
}

export function buildGradientGraph(arch: Architecture, options: GradientGraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder();
  const { loss, grads, batchInputs, parameters, dropoutSites } = addForwardBackward(g, arch, options);
  g.ops("Identity", [loss], {}, ["loss"]);
  g.output("loss", DataType.FLOAT, []);
  for (const p of parameters) {
    g.ops("Identity", [grads.get(p.name)!], {}, [gradName(p.name)]);
    g.output(gradName(p.name), DataType.FLOAT, p.shape);
  }
  return { model: g.build(`${arch.modelType} training: loss and gradients`), parameters, batchInputs, dropoutSites };
}
