// The padded 4-sentence batches of ../shared/fixtures/hf/model-cases.json (words, tags, ids, mask,
// labels, transformers' eval-mode logits, training loss and the three-step recipe per tiny model),
// nerkit's logits for one of them, and the differences tests measure against them (parameters after
// training steps in two sets, see stepErrors).

import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { TensorStore, readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { architectureOf } from "../src/model/architecture.js";
import { SessionOptions, TokenClassifierSession } from "../src/model/session.js";
import { fixturesDir, readJson } from "./helpers.js";

/** One model kind's fixture batch, as ../shared/fixtures/README.md describes it. */
export interface ModelCase {
  dir: string;
  words: string[][];
  tags: string[][];
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][] | null;
  labels: number[][];
  logits_eval: number[][][];
  loss_train: number;
  train_steps: { loss_per_step: number[]; grad_norm_per_step: number[]; lr_per_step: number[] };
}

export const MODEL_KINDS = ["bert", "distilbert", "roberta", "xlmr"] as const;

export const modelCases = readJson<Record<string, ModelCase>>(join(fixturesDir, "hf", "model-cases.json"));

export const tinyModelDir = (kind: string) => join(fixturesDir, "hf", `${kind}-tiny`);

/**
 * nerkit's logits, flat (B·T·L), for the fixture batch of the `kind`-tiny model, in a session built with `options`;
 * `dir` replaces the checkpoint folder (the same weights under another config.json).
 */
export async function caseLogits(kind: string, options: SessionOptions = {}, dir = tinyModelDir(kind)): Promise<Float32Array> {
  const checkpoint = loadCheckpoint(dir);
  const session = await TokenClassifierSession.create(architectureOf(checkpoint.config), (name) => checkpoint.weights.tensor(name), { threads: 1, ...options });
  const c = modelCases[kind];
  try {
    return await session.run({
      rows: c.input_ids.length,
      length: c.input_ids[0].length,
      inputIds: BigInt64Array.from(c.input_ids.flat().map(BigInt)),
      attentionMask: BigInt64Array.from(c.attention_mask.flat().map(BigInt)),
    });
  } finally {
    await session.release();
  }
}

/** The largest absolute difference between two equally long lists. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The largest absolute difference between the tensors of two safetensors files, over the second's names. */
export function maxSafetensorsDifference(actualPath: string, expectedPath: string): number {
  const actual = readSafetensors(actualPath);
  const expected = readSafetensors(expectedPath);
  let worst = 0;
  for (const name of expected.names) worst = Math.max(worst, maxAbsDifference(actual.tensor(name).data, expected.tensor(name).data));
  return worst;
}

/** Parameters' largest |actual − expected| after training steps, on two sets of coordinates (stepErrors). */
export interface StepErrors {
  /** Over coordinates whose first gradient is zero or clear of round-off. */
  settled: number;
  /** Over coordinates whose first gradient is nonzero but under 1e-4 of its tensor's largest. */
  noisy: number;
}

/**
 * Compares parameters after AdamW steps with `expected`, every tensor of it, apart on the coordinates whose
 * first gradient (`firstGradients`: the first step's, at the same starting point) is round-off. Adam divides
 * each gradient by its own running RMS, so where the gradient is itself float noise (roberta's value weight
 * [181] in the fixture recipe: 3e-9, where its tensor's largest is 4e-3) the noise sets the update, and
 * float32 implementations part by up to 1e-6 there while elsewhere they agree to 2 ulp. When `expected` has an
 * int64 `word_embedding_rows`, its tensors shorter than the actual ones (and their gradients) hold those rows only.
 */
export function stepErrors(actual: (name: string) => ArrayLike<number>, expected: TensorStore, firstGradients: TensorStore): StepErrors {
  const rows = expected.has("word_embedding_rows") ? Array.from(expected.integerTensor("word_embedding_rows").data, Number) : [];
  const errors = { settled: 0, noisy: 0 };
  for (const name of expected.names.filter((n) => n !== "word_embedding_rows")) {
    const want = expected.tensor(name).data;
    const gradient = firstGradients.tensor(name).data;
    let got = actual(name);
    if (rows.length > 0 && got.length > want.length) {
      const width = want.length / rows.length;
      const all = got;
      got = rows.flatMap((r) => Array.from({ length: width }, (_, j) => all[r * width + j]));
    }
    if (got.length !== want.length || gradient.length !== want.length) throw new Error(`${name}: ${got.length} values and ${gradient.length} gradients, expected ${want.length}`);
    let largest = 0;
    for (let i = 0; i < gradient.length; i++) largest = Math.max(largest, Math.abs(gradient[i]));
    for (let i = 0; i < want.length; i++) {
      const error = Math.abs(got[i] - want[i]);
      if (gradient[i] !== 0 && Math.abs(gradient[i]) < 1e-4 * largest) errors.noisy = Math.max(errors.noisy, error);
      else errors.settled = Math.max(errors.settled, error);
    }
  }
  return errors;
}

/** The `kind` fixture batch as a training step takes it: ids, mask, token types (BERT) and labels, int64. */
export function trainingBatch(kind: string) {
  const c = modelCases[kind];
  const ints = (rows: number[][]) => BigInt64Array.from(rows.flat().map(BigInt));
  return {
    rows: c.input_ids.length,
    length: c.input_ids[0].length,
    inputIds: ints(c.input_ids),
    attentionMask: ints(c.attention_mask),
    tokenTypeIds: c.token_type_ids ? ints(c.token_type_ids) : undefined,
    labels: ints(c.labels),
  };
}
