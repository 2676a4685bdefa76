// Interprets a Hugging Face `config.json` (parsed) as a typed, camelCase ModelConfig. This is the only module that
// knows Hugging Face's snake_case keys and DistilBERT's other names for them (dim, n_layers, ...).
// It checks what a loader needs: a supported model_type, positive sizes, heads that divide the
// hidden size, and id2label/label2id that agree. Left out: keys no BERT-family encoder for token
// classification uses (they stay readable in `raw`), guessing sizes a config does not give, and
// reading the file (./config.ts does; this module imports no Node built-in, for the browser's loader).

import { NerkitError } from "../../errors.js";

export const MODEL_TYPES = ["bert", "distilbert", "roberta", "xlm-roberta"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface ModelConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  /** 0 for DistilBERT, which has no token type embeddings. */
  typeVocabSize: number;
  layerNormEps: number;
  /** "gelu", "relu", ... as the config names it. */
  hiddenAct: string;
  padTokenId: number;
  /** BERT-family `position_embedding_type` ("absolute" unless the config says otherwise). */
  positionEmbeddingType: string;
  /** DistilBERT's `sinusoidal_pos_embds` (the table is still stored as a weight). */
  sinusoidalPositions: boolean;
  /** id2label as a list: labels[id]. Empty for a config without labels. */
  labels: string[];
  labelToId: Record<string, number>;
  /** The parsed JSON, for keys this module does not interpret. */
  raw: Readonly<Record<string, unknown>>;
}

type SizeField = "vocabSize" | "hiddenSize" | "numLayers" | "numHeads" | "intermediateSize" | "maxPositions" | "typeVocabSize";

/** Size fields and the key each family stores them under (null: the family has no such field). */
const SIZE_KEYS: ReadonlyArray<readonly [SizeField, string, string | null]> = [
  // field               BERT / RoBERTa / XLM-R key    DistilBERT key
  ["vocabSize", "vocab_size", "vocab_size"],
  ["hiddenSize", "hidden_size", "dim"],
  ["numLayers", "num_hidden_layers", "n_layers"],
  ["numHeads", "num_attention_heads", "n_heads"],
  ["intermediateSize", "intermediate_size", "hidden_dim"],
  ["maxPositions", "max_position_embeddings", "max_position_embeddings"],
  ["typeVocabSize", "type_vocab_size", null],
];

/** transformers' class defaults for the keys old configs may leave out. */
const DEFAULT_PAD_TOKEN_ID: Record<ModelType, number> = { bert: 0, distilbert: 0, roberta: 1, "xlm-roberta": 1 };
const DEFAULT_LAYER_NORM_EPS = 1e-12; // also DistilBERT's fixed LayerNorm eps

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** id2label and label2id, checked against each other and against num_labels. */
function parseLabels(json: Record<string, unknown>, fail: (message: string, field?: string) => NerkitError): { labels: string[]; labelToId: Record<string, number> } {
  const { id2label, label2id, num_labels: numLabels } = json;
  let labels: string[] | undefined;
  if (id2label !== undefined) {
    if (!isObject(id2label)) throw fail("is not an object", "id2label");
    const entries = Object.entries(id2label);
    labels = new Array<string>(entries.length);
    for (const [key, label] of entries) {
      const id = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
      if (!(id < entries.length)) throw fail(`ids must be 0..${entries.length - 1}; found ${JSON.stringify(key)}`, "id2label");
      if (typeof label !== "string") throw fail(`label of id ${key} is not a string`, "id2label");
      labels[id] = label;
    }
    const seen = new Set<string>();
    for (const label of labels) {
      if (seen.has(label)) throw fail(`label ${JSON.stringify(label)} appears twice`, "id2label");
      seen.add(label);
    }
  }
  if (label2id !== undefined) {
    if (!isObject(label2id)) throw fail("is not an object", "label2id");
    const entries = Object.entries(label2id);
    for (const [label, id] of entries) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= entries.length) {
        throw fail(`id of ${JSON.stringify(label)} must be an integer in 0..${entries.length - 1}; found ${JSON.stringify(id)}`, "label2id");
      }
    }
    if (labels === undefined) {
      labels = new Array<string>(entries.length);
      for (const [label, id] of entries) {
        if (labels[id as number] !== undefined) throw fail(`id ${id} is given to two labels`, "label2id");
        labels[id as number] = label;
      }
    } else {
      if (entries.length !== labels.length) {
        throw fail(`id2label has ${labels.length} labels but label2id has ${entries.length}`, "label2id");
      }
      for (let id = 0; id < labels.length; id++) {
        if (label2id[labels[id]] !== id) {
          const other = label2id[labels[id]];
          throw fail(
            `disagrees with id2label: id2label[${id}] is ${JSON.stringify(labels[id])} but label2id[${JSON.stringify(labels[id])}] is ${JSON.stringify(other)}`,
            "label2id",
          );
        }
      }
    }
  }
  const list = labels ?? [];
  if (numLabels !== undefined && list.length > 0 && numLabels !== list.length) {
    throw fail(`is ${JSON.stringify(numLabels)} but id2label has ${list.length} labels`, "num_labels");
  }
  const labelToId: Record<string, number> = Object.create(null);
  list.forEach((label, id) => (labelToId[label] = id));
  return { labels: list, labelToId };
}

/** Interprets parsed config.json content; `file` names it in errors. */
export function parseModelConfig(json: unknown, file: string): ModelConfig {
  const fail = (message: string, field?: string) => new NerkitError("E_FORMAT", message, { file, field });
  if (!isObject(json)) throw fail("config is not a JSON object");
  const modelType = json.model_type;
  if (typeof modelType !== "string" || !(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw fail(`${modelType === undefined ? "missing" : `unsupported: ${JSON.stringify(modelType)}`}; nerkit supports ${MODEL_TYPES.join(", ")}`, "model_type");
  }
  const type = modelType as ModelType;
  const distil = type === "distilbert";

  const sizes = {} as Record<SizeField, number>;
  for (const [field, key, distilKey] of SIZE_KEYS) {
    const name = distil ? distilKey : key;
    if (name === null) {
      sizes[field] = 0;
      continue;
    }
    const value = json[name];
    if (value === undefined) throw fail("missing", name);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw fail(`must be a positive integer; found ${JSON.stringify(value)}`, name);
    sizes[field] = value;
  }
  if (sizes.hiddenSize % sizes.numHeads !== 0) {
    throw fail(`hidden size ${sizes.hiddenSize} is not a multiple of the ${sizes.numHeads} attention heads`, distil ? "n_heads" : "num_attention_heads");
  }

  const optional = <T>(key: string, check: (v: unknown) => v is T, fallback: T, what: string): T => {
    const value = json[key];
    if (value === undefined || value === null) return fallback;
    if (!check(value)) throw fail(`must be ${what}; found ${JSON.stringify(value)}`, key);
    return value;
  };
  const isString = (v: unknown): v is string => typeof v === "string";
  const isEps = (v: unknown): v is number => typeof v === "number" && v > 0 && Number.isFinite(v);
  const isId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  const isBool = (v: unknown): v is boolean => typeof v === "boolean";

  return {
    modelType: type,
    ...sizes,
    layerNormEps: distil ? DEFAULT_LAYER_NORM_EPS : optional("layer_norm_eps", isEps, DEFAULT_LAYER_NORM_EPS, "a positive number"),
    hiddenAct: optional(distil ? "activation" : "hidden_act", isString, "gelu", "a string"),
    padTokenId: optional("pad_token_id", isId, DEFAULT_PAD_TOKEN_ID[type], "a non-negative integer"),
    positionEmbeddingType: distil ? "absolute" : optional("position_embedding_type", isString, "absolute", "a string"),
    sinusoidalPositions: distil ? optional("sinusoidal_pos_embds", isBool, false, "true or false") : false,
    ...parseLabels(json, fail),
    raw: json,
  };
}
