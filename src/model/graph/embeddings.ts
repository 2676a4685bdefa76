// Token, position and segment embeddings summed and normalised, forward and backward.
// Shapes: B batch, T tokens, H hidden, V vocabulary, P positions, S segment types.
// Backward: each table's gradient scatters (adds) the upstream rows into the rows that were read:
// ScatterND with reduction "add", so a token that occurs twice gets both contributions.

import { GraphBuilder } from "../onnx/graph-builder.js";
import { Architecture, usesPaddingOffsetPositions } from "../architecture.js";
import { ModelNames } from "../parameters.js";
import { GradientSink } from "./gradients.js";
import { LayerNormSaved, layerNormBackward, layerNormForward } from "./layer-norm.js";
import { WeightInput } from "./linear.js";

export interface EmbeddingsSaved {
  ids: string;
  positionIds: string;
  /** Positions shared by the batch, (1, T), rather than per row, (B, T). */
  positionsShared: boolean;
  typeIds?: string;
  norm: LayerNormSaved;
}

/** Position ids 0..T-1, (1, T). */
function positionRange(g: GraphBuilder, ids: string): string {
  const length = g.op("Gather", [g.op("Shape", [ids]), g.int64([1], [])], { axis: 0 });
  return g.op("Unsqueeze", [g.op("Range", [g.int64([0], []), length, g.int64([1], [])]), g.int64([0])]);
}

/** RoBERTa's positions: padding keeps padTokenId; real tokens count up from padTokenId + 1. (B, T). */
function paddingOffsetPositions(g: GraphBuilder, ids: string, padTokenId: number): string {
  const notPad = g.op("Cast", [g.op("Not", [g.op("Equal", [ids, g.int64([padTokenId], [])])])], { to: 7 });
  const counted = g.op("Mul", [g.op("CumSum", [notPad, g.int64([1], [])]), notPad]);
  return g.op("Add", [counted, g.int64([padTokenId], [])]);
}

/** Token, position and segment embeddings summed, before the LayerNorm: (B, T, H). */
export function embeddingSum(g: GraphBuilder, arch: Architecture, names: ModelNames, weight: WeightInput, ids: string, typeIds: string | undefined): { sum: string; positionIds: string; positionsShared: boolean; typeIds?: string } {
  const shared = !usesPaddingOffsetPositions(arch);
  const positionIds = shared ? positionRange(g, ids) : paddingOffsetPositions(g, ids, arch.padTokenId);
  let sum = g.op("Add", [g.op("Gather", [weight(`${names.words}.weight`), ids]), g.op("Gather", [weight(`${names.positions}.weight`), positionIds])]);
  let types: string | undefined;
  if (names.tokenTypes) {
    // Models without a token_type_ids input (RoBERTa, XLM-R) read segment row 0 everywhere.
    types = typeIds ?? g.op("Mul", [ids, g.int64([0], [])]);
    sum = g.op("Add", [sum, g.op("Gather", [weight(`${names.tokenTypes}.weight`), types])]);
  }
  return { sum, positionIds, positionsShared: shared, typeIds: types };
}

export function embeddingsForward(g: GraphBuilder, arch: Architecture, names: ModelNames, weight: WeightInput, ids: string, typeIds: string | undefined): { y: string; saved: EmbeddingsSaved } {
  const { sum, positionIds, positionsShared, typeIds: types } = embeddingSum(g, arch, names, weight, ids, typeIds);
  const norm = layerNormForward(g, sum, weight, names.embeddingNorm, arch.layerNormEps, arch.hidden);
  return { y: norm.y, saved: { ids, positionIds, positionsShared, typeIds: types, norm: norm.saved } };
}

export function embeddingsBackward(g: GraphBuilder, arch: Architecture, names: ModelNames, s: EmbeddingsSaved, dy: string, sink: GradientSink): void {
  const H = arch.hidden;
  const dsum = layerNormBackward(g, s.norm, dy, sink); // (B, T, H)
  const scatter = (rows: number, indices: string, updates: string) =>
    g.op("ScatterND", [g.zeros([rows, H]), g.op("Unsqueeze", [indices, g.int64([-1])]), updates], { reduction: "add" });
  sink.add(`${names.words}.weight`, scatter(arch.vocabSize, s.ids, dsum));
  const positionUpdates = s.positionsShared ? g.op("ReduceSum", [dsum, g.int64([0])], { keepdims: 1 }) : dsum;
  sink.add(`${names.positions}.weight`, scatter(arch.maxPositions, s.positionIds, positionUpdates));
  if (names.tokenTypes && s.typeIds) sink.add(`${names.tokenTypes}.weight`, scatter(arch.typeVocabSize, s.typeIds, dsum));
}
