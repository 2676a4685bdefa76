// What the graph builders need to know of a model, derived from its parsed config.json
// (./checkpoint/config.ts, the one module that reads Hugging Face's keys): sizes, the activation,
// how positions are numbered, and the labels. Refuses what the graph cannot build.

import { NerkitError } from "../errors.js";
import { ModelConfig, ModelType } from "./checkpoint/model-config.js";

export type { ModelType };

export type Activation = "gelu" | "relu" | "gelu_new";
const ACTIVATIONS: readonly string[] = ["gelu", "relu", "gelu_new"];

export interface Architecture {
  modelType: ModelType;
  /** H: hidden size; A: attention heads; L: encoder layers; I: feed-forward size. */
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  /** Token type (segment) vocabulary; 0 when the model has none (DistilBERT). */
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  activation: Activation;
  /** Labels by id: the classifier's output size. */
  labels: string[];
  initializerRange: number;
  /** Dropout probabilities used in training (hidden states, attention probabilities, the classifier's input). */
  dropout: { hidden: number; attention: number; classifier: number };
}

function probability(value: unknown, fallback: number): number {
  return typeof value === "number" && value >= 0 && value < 1 ? value : fallback;
}

/** The architecture of a checkpoint; `labels` replaces its label set (training a new head). */
export function architectureOf(config: ModelConfig, file = "config.json", labels?: string[]): Architecture {
  if (!ACTIVATIONS.includes(config.hiddenAct)) {
    throw new NerkitError("E_FORMAT", `unsupported activation ${JSON.stringify(config.hiddenAct)}: nerkit supports ${ACTIVATIONS.join(", ")}`, { file });
  }
  if (config.sinusoidalPositions) {
    throw new NerkitError("E_FORMAT", "DistilBERT with sinusoidal position embeddings is not supported", { file, field: "sinusoidal_pos_embds" });
  }
  if (config.positionEmbeddingType !== "absolute") {
    throw new NerkitError("E_FORMAT", `position_embedding_type ${JSON.stringify(config.positionEmbeddingType)} is not supported (only "absolute")`, { file });
  }
  if ((labels ?? config.labels).length === 0) {
    throw new NerkitError("E_FORMAT", "config.json has no id2label: this is not a token-classification checkpoint", { file, field: "id2label" });
  }
  const range = config.raw.initializer_range;
  const raw = config.raw;
  const distil = config.modelType === "distilbert";
  const hidden = probability(distil ? raw.dropout : raw.hidden_dropout_prob, 0.1);
  const dropout = {
    hidden,
    attention: probability(distil ? raw.attention_dropout : raw.attention_probs_dropout_prob, 0.1),
    classifier: distil ? hidden : probability(raw.classifier_dropout, hidden),
  };
  return {
    modelType: config.modelType,
    hidden: config.hiddenSize,
    heads: config.numHeads,
    layers: config.numLayers,
    intermediate: config.intermediateSize,
    vocabSize: config.vocabSize,
    maxPositions: config.maxPositions,
    typeVocabSize: config.typeVocabSize,
    layerNormEps: config.layerNormEps,
    padTokenId: config.padTokenId,
    activation: config.hiddenAct as Activation,
    labels: labels ?? config.labels,
    initializerRange: typeof range === "number" ? range : 0.02,
    dropout,
  };
}

/** RoBERTa-style models number positions from padTokenId + 1 (fairseq's convention). */
export function usesPaddingOffsetPositions(arch: Architecture): boolean {
  return arch.modelType === "roberta" || arch.modelType === "xlm-roberta";
}

/** The number of tokens a model can read: RoBERTa's table keeps pad + 1 rows for its offset. */
export function maxTokens(arch: Architecture): number {
  return usesPaddingOffsetPositions(arch) ? arch.maxPositions - arch.padTokenId - 1 : arch.maxPositions;
}
