// The padded 4-sentence batches of ../shared/fixtures/hf/model-cases.json (words, tags, ids, mask,
// labels, transformers' eval-mode logits, training loss and the three-step recipe per tiny model),
// nerkit's logits for one of them, and the differences tests measure against them.

import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
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

/** nerkit's logits, flat (B·T·L), for the fixture batch of the `kind`-tiny model, in a session built with `options`. */
export async function caseLogits(kind: string, options: SessionOptions = {}): Promise<Float32Array> {
  const checkpoint = loadCheckpoint(tinyModelDir(kind));
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
