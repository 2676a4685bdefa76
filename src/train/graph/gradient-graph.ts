// The graph of one forward and backward pass for training: batch and parameters in, the mean
// cross-entropy loss (or distill's loss), every parameter's gradient and the gradients' norm out.
// Parameters are graph inputs (named as in the checkpoint), so one session serves every step;
// gradients are outputs named "grad.<name>". The AdamW update runs apart (optimizer-graph.ts).

import { DataType } from "../../model/onnx/proto.js";
import { GraphBuilder } from "../../model/onnx/graph-builder.js";
import { Architecture } from "../../model/architecture.js";
import { ParameterSpec, parameterTable } from "../../model/parameters.js";
import { GradientSink } from "../../model/graph/gradients.js";
import { crossEntropyBackward, crossEntropyForward } from "../../model/graph/cross-entropy.js";
import { encoderBackward, encoderForward } from "../../model/graph/encoder-layers.js";
import { DropoutSite } from "../../model/graph/dropout.js";
import { DistillationSettings, distillationBackward, distillationForward } from "../../model/graph/distillation-loss.js";
import { hiddenMatchingBackward, hiddenMatchingForward, projectionTable } from "../../model/graph/hidden-matching-loss.js";
import { addGradNorm } from "./optimizer-graph.js";

export interface GradientGraphOptions {
  /** Take a (L) class-weight input for the loss. */
  classWeights?: boolean;
  /**
   * The distillation loss instead of plain cross-entropy (../../model/graph/distillation-loss.ts),
   * with two more batch inputs: teacher_logits (B, T, L) and soft_mask (B, T); with hidden-state
   * matching, one more per pair, teacher_hidden.<k> (B, T, H), and the projections as parameters.
   */
  distillation?: DistillationSettings;
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

/** Batch input of the teacher's hidden states for pair k of --match-hidden. */
export const teacherHiddenName = (k: number) => `teacher_hidden.${k}`;

/** Adds the forward and backward pass to `g`; returns the loss and the gradient tensor of each parameter. */
export function addForwardBackward(g: GraphBuilder, arch: Architecture, options: GradientGraphOptions = {}): { loss: string; grads: Map<string, string>; batchInputs: string[]; parameters: ParameterSpec[]; dropoutSites: DropoutSite[] } {
  const hiddenMatching = options.distillation?.hidden;
  const parameters = [...parameterTable(arch), ...(hiddenMatching ? projectionTable(hiddenMatching) : [])];
  for (const p of parameters) g.input(p.name, DataType.FLOAT, p.shape);
  const dims = ["batch", "tokens"];
  const ids = g.input("input_ids", DataType.INT64, dims);
  const mask = g.input("attention_mask", DataType.INT64, dims);
  const typeIds = arch.modelType === "bert" ? g.input("token_type_ids", DataType.INT64, dims) : undefined;
  const labels = g.input("labels", DataType.INT64, dims);
  const weights = options.classWeights ? g.input("class_weights", DataType.FLOAT, [arch.labels.length]) : undefined;

  const dropoutSites: DropoutSite[] = [];
  const sink = new GradientSink(g);
  const { logits, tape, hidden } = encoderForward(g, arch, (name) => name, ids, mask, typeIds, undefined, { ...arch.dropout, sites: dropoutSites });
  const distillation = options.distillation;
  let loss: string;
  let dlogits: () => string;
  let dHidden: () => Map<number, string> = () => new Map();
  if (distillation) {
    const teacherLogits = g.input("teacher_logits", DataType.FLOAT, [...dims, arch.labels.length]);
    const softMask = g.input("soft_mask", DataType.FLOAT, dims);
    const kd = distillationForward(g, { logits, labels, teacherLogits, softMask, classWeights: weights }, arch.labels.length, distillation);
    loss = kd.loss;
    dlogits = () => distillationBackward(g, kd.saved, distillation, g.op("Shape", [logits]));
    if (hiddenMatching) {
      const teacher = hiddenMatching.pairs.map((_, k) => g.input(teacherHiddenName(k), DataType.FLOAT, [...dims, hiddenMatching.teacherWidth]));
      const student = hiddenMatching.pairs.map((p) => hidden[p.student]);
      const tokens = g.op("Cast", [mask], { to: 1 }); // (B, T): every non-padding token
      const matching = hiddenMatchingForward(g, { student, teacher, mask: tokens }, (name) => name, hiddenMatching);
      loss = g.op("Add", [loss, matching.loss]);
      // Built when the backward pass is (after the logits' gradient), so the graph reads in order.
      dHidden = () => {
        const byLayer = new Map<number, string>();
        hiddenMatchingBackward(g, matching.saved, sink).forEach((d, k) => {
          const layer = hiddenMatching.pairs[k].student;
          byLayer.set(layer, byLayer.has(layer) ? g.op("Add", [byLayer.get(layer)!, d]) : d);
        });
        return byLayer;
      };
    }
  } else {
    const ce = crossEntropyForward(g, logits, labels, arch.labels.length, weights);
    loss = ce.loss;
    dlogits = () => crossEntropyBackward(g, ce.saved, g.op("Shape", [logits]));
  }
  encoderBackward(g, arch, tape, dlogits(), sink, dHidden());
  for (const p of parameters) {
    if (!sink.grads.has(p.name)) throw new Error(`no gradient reaches ${p.name}`);
  }
  const batchInputs = ["input_ids", "attention_mask", ...(typeIds ? ["token_type_ids"] : []), "labels", ...(weights ? ["class_weights"] : []), ...(distillation ? ["teacher_logits", "soft_mask"] : []), ...(hiddenMatching ? hiddenMatching.pairs.map((_, k) => teacherHiddenName(k)) : [])];
  return { loss, grads: sink.grads, batchInputs, parameters, dropoutSites };
}

export function buildGradientGraph(arch: Architecture, options: GradientGraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder();
  const { loss, grads, batchInputs, parameters, dropoutSites } = addForwardBackward(g, arch, options);
  g.ops("Identity", [loss], {}, ["loss"]);
  g.output("loss", DataType.FLOAT, []);
  for (const p of parameters) {
    g.rename(grads.get(p.name)!, gradName(p.name));
    g.output(gradName(p.name), DataType.FLOAT, p.shape);
  }
  addGradNorm(g, parameters.map((p) => gradName(p.name)));
  return { model: g.build(`${arch.modelType} training: loss, gradients and their norm`), parameters, batchInputs, dropoutSites };
}
