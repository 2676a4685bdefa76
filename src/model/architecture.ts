// The shape of a token-classification model, read once from a Hugging Face config.json. Hugging
// Face's snake_case keys (and DistilBERT's own names for the same things) stay in this module;
// the rest of nerkit sees one Architecture.

import { NerkitError } from "../errors.js";

export const MODEL_TYPES = ["bert", "distilbert", "roberta", "xlm-roberta"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export type Activation = "gelu" | "relu" | "gelu_new";

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
}

type Config = Record<string, unknown>;

function numberField(config: Config, key: string, file: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new NerkitError("E_FORMAT", `config.json: "${key}" must be a number`, { file, field: key });
  }
  return value;
}

/** id2label as a dense list; label2id, when present, must agree with it. */
function labelsOf(config: Config, file: string): string[] {
  const id2label = config.id2label as Record<string, string> | undefined;
  if (!id2label || typeof id2label !== "object") {
    const count = typeof config.num_labels === "number" ? config.num_labels : 2;
    return Array.from({ length: count }, (_, i) => `LABEL_${i}`);
  }
  const ids = Object.keys(id2label).map(Number);
  const labels: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const label = id2label[String(i)];
    if (typeof label !== "string") throw new NerkitError("E_FORMAT", `config.json: id2label has no label for id ${i}`, { file, field: "id2label" });
    labels.push(label);
  }
  const label2id = config.label2id as Record<string, number> | undefined;
  if (label2id && typeof label2id === "object") {
    for (const [label, id] of Object.entries(label2id)) {
      if (labels[id] !== label) {
        throw new NerkitError("E_FORMAT", `config.json: label2id says ${label} is ${id}, but id2label says ${id} is ${labels[id]}`, { file, field: "label2id" });
      }
    }
  }
  return labels;
}

export function architectureFromConfig(config: Config, file = "config.json"): Architecture {
  const modelType = config.model_type;
  if (typeof modelType !== "string" || !(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new NerkitError("E_FORMAT", `unsupported model_type ${JSON.stringify(modelType)}: nerkit supports ${MODEL_TYPES.join(", ")}`, {
      file,
      field: "model_type",
    });
  }
  const labels = labelsOf(config, file);
  if (modelType === "distilbert") {
    if (config.sinusoidal_pos_embds === true) {
      throw new NerkitError("E_FORMAT", "DistilBERT with sinusoidal position embeddings is not supported", { file, field: "sinusoidal_pos_embds" });
    }
    return {
      modelType,
      hidden: numberField(config, "dim", file),
      heads: numberField(config, "n_heads", file),
      layers: numberField(config, "n_layers", file),
      intermediate: numberField(config, "hidden_dim", file),
      vocabSize: numberField(config, "vocab_size", file),
      maxPositions: numberField(config, "max_position_embeddings", file),
      typeVocabSize: 0,
      layerNormEps: 1e-12,
      padTokenId: numberField(config, "pad_token_id", file, 0),
      activation: activationOf(config.activation, file),
      labels,
      initializerRange: numberField(config, "initializer_range", file, 0.02),
    };
  }
  const arch: Architecture = {
    modelType: modelType as ModelType,
    hidden: numberField(config, "hidden_size", file),
    heads: numberField(config, "num_attention_heads", file),
    layers: numberField(config, "num_hidden_layers", file),
    intermediate: numberField(config, "intermediate_size", file),
    vocabSize: numberField(config, "vocab_size", file),
    maxPositions: numberField(config, "max_position_embeddings", file),
    typeVocabSize: numberField(config, "type_vocab_size", file, 2),
    layerNormEps: numberField(config, "layer_norm_eps", file, 1e-12),
    padTokenId: numberField(config, "pad_token_id", file, modelType === "bert" ? 0 : 1),
    activation: activationOf(config.hidden_act, file),
    labels,
    initializerRange: numberField(config, "initializer_range", file, 0.02),
  };
  if (arch.hidden % arch.heads !== 0) {
    throw new NerkitError("E_FORMAT", `hidden size ${arch.hidden} is not a multiple of ${arch.heads} heads`, { file });
  }
  return arch;
}

function activationOf(value: unknown, file: string): Activation {
  if (value === undefined || value === "gelu" || value === "relu" || value === "gelu_new") return (value ?? "gelu") as Activation;
  throw new NerkitError("E_FORMAT", `unsupported activation ${JSON.stringify(value)}: nerkit supports gelu, gelu_new and relu`, { file });
}

/** RoBERTa-style models number positions from padTokenId + 1 (fairseq's convention). */
export function usesPaddingOffsetPositions(arch: Architecture): boolean {
  return arch.modelType === "roberta" || arch.modelType === "xlm-roberta";
}

/** The number of positions a model can read: RoBERTa's table keeps pad + 1 rows for its offset. */
export function maxTokens(arch: Architecture): number {
  return usesPaddingOffsetPositions(arch) ? arch.maxPositions - arch.padTokenId - 1 : arch.maxPositions;
}
