// Every parameter of a token-classification model, described once as a table: its Hugging Face
// name, shape, initialiser and whether AdamW decays it. Loading (names and shapes to check),
// graph building (which tensor each layer reads), saving, counting and optimizer groups all derive
// from this table. Initialisers follow transformers' _init_weights: normal(0, initializer_range)
// for matrices and embeddings, zeros for biases, ones for LayerNorm weights; no weight decay on
// biases and LayerNorm weights (Trainer's default grouping).

import { Architecture } from "./architecture.js";

export type Initialiser = "normal" | "zeros" | "ones";

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: Initialiser;
  decay: boolean;
  /** A parameter of training only (distillation's projections): kept in a checkpoint's training state, never in the model. */
  trainingOnly?: boolean;
}

/** Checkpoint names of the tensors one encoder layer reads (each with .weight and .bias). */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

/** Checkpoint names of the embedding tensors and the classifier. */
export interface ModelNames {
  words: string;
  positions: string;
  /** Absent for DistilBERT. */
  tokenTypes?: string;
  embeddingNorm: string;
  layers: LayerNames[];
  classifier: string;
}

export function modelNames(arch: Architecture): ModelNames {
  const layers: LayerNames[] = [];
  if (arch.modelType === "distilbert") {
    for (let i = 0; i < arch.layers; i++) {
      const p = `distilbert.transformer.layer.${i}`;
      layers.push({
        query: `${p}.attention.q_lin`,
        key: `${p}.attention.k_lin`,
        value: `${p}.attention.v_lin`,
        attentionOutput: `${p}.attention.out_lin`,
        attentionNorm: `${p}.sa_layer_norm`,
        intermediate: `${p}.ffn.lin1`,
        output: `${p}.ffn.lin2`,
        outputNorm: `${p}.output_layer_norm`,
      });
    }
    return {
      words: "distilbert.embeddings.word_embeddings",
      positions: "distilbert.embeddings.position_embeddings",
      embeddingNorm: "distilbert.embeddings.LayerNorm",
      layers,
      classifier: "classifier",
    };
  }
  // BERT, RoBERTa and XLM-R share one layout under their base model's prefix.
  const base = arch.modelType === "bert" ? "bert" : "roberta";
  for (let i = 0; i < arch.layers; i++) {
    const p = `${base}.encoder.layer.${i}`;
    layers.push({
      query: `${p}.attention.self.query`,
      key: `${p}.attention.self.key`,
      value: `${p}.attention.self.value`,
      attentionOutput: `${p}.attention.output.dense`,
      attentionNorm: `${p}.attention.output.LayerNorm`,
      intermediate: `${p}.intermediate.dense`,
      output: `${p}.output.dense`,
      outputNorm: `${p}.output.LayerNorm`,
    });
  }
  return {
    words: `${base}.embeddings.word_embeddings`,
    positions: `${base}.embeddings.position_embeddings`,
    tokenTypes: `${base}.embeddings.token_type_embeddings`,
    embeddingNorm: `${base}.embeddings.LayerNorm`,
    layers,
    classifier: "classifier",
  };
}

/** The table: every parameter in checkpoint order (embeddings, layers, classifier). */
export function parameterTable(arch: Architecture): ParameterSpec[] {
  const names = modelNames(arch);
  const H = arch.hidden;
  const I = arch.intermediate;
  const table: ParameterSpec[] = [];
  const embedding = (name: string, rows: number) => table.push({ name: `${name}.weight`, shape: [rows, H], init: "normal", decay: true });
  const linear = (name: string, inputs: number, outputs: number) => {
    table.push({ name: `${name}.weight`, shape: [outputs, inputs], init: "normal", decay: true });
    table.push({ name: `${name}.bias`, shape: [outputs], init: "zeros", decay: false });
  };
  const norm = (name: string) => {
    table.push({ name: `${name}.weight`, shape: [H], init: "ones", decay: false });
    table.push({ name: `${name}.bias`, shape: [H], init: "zeros", decay: false });
  };
  embedding(names.words, arch.vocabSize);
  embedding(names.positions, arch.maxPositions);
  if (names.tokenTypes) embedding(names.tokenTypes, arch.typeVocabSize);
  norm(names.embeddingNorm);
  for (const layer of names.layers) {
    linear(layer.query, H, H);
    linear(layer.key, H, H);
    linear(layer.value, H, H);
    linear(layer.attentionOutput, H, H);
    norm(layer.attentionNorm);
    linear(layer.intermediate, H, I);
    linear(layer.output, I, H);
    norm(layer.outputNorm);
  }
  linear(names.classifier, H, arch.labels.length);
  return table;
}

export function parameterCount(table: readonly ParameterSpec[]): number {
  return table.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
