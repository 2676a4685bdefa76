// One whole training step as one graph: forward, loss, backward, clipping and AdamW. Batch,
// parameters, moments and scalars in; loss, gradient norm, updated parameters and moments out.
// With gradient accumulation the two halves run apart (gradient-graph.ts, then an optimizer
// graph fed with the summed gradients), which this module also builds.

import { DataType } from "../../model/onnx/proto.js";
import { GraphBuilder } from "../../model/onnx/graph-builder.js";
import { Architecture } from "../../model/architecture.js";
import { ParameterSpec } from "../../model/parameters.js";
import { BuiltGraph, GradientGraphOptions, addForwardBackward, gradName } from "./gradient-graph.js";
import { addOptimizer } from "./optimizer-graph.js";

export function buildTrainStepGraph(arch: Architecture, options: GradientGraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder();
  const { loss, grads, batchInputs, parameters, dropoutSites } = addForwardBackward(g, arch, options);
  g.ops("Identity", [loss], {}, ["loss"]);
  g.output("loss", DataType.FLOAT, []);
  addOptimizer(g, parameters, grads);
  return { model: g.build(`${arch.modelType} training step: forward, backward, clipping, AdamW`), parameters, batchInputs, dropoutSites };
}

/** The optimizer alone, with each parameter's gradient as an input "grad.<name>". */
export function buildOptimizerGraph(parameters: readonly ParameterSpec[]): Uint8Array {
  const g = new GraphBuilder();
  for (const p of parameters) g.input(p.name, DataType.FLOAT, p.shape);
  const grads = new Map(parameters.map((p) => [p.name, g.input(gradName(p.name), DataType.FLOAT, p.shape)]));
  addOptimizer(g, parameters, grads);
  return g.build("clipping and AdamW");
}
