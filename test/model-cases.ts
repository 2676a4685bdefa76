// The padded 4-sentence batches of ../shared/fixtures/hf/model-cases.json (ids, mask and
// transformers' eval-mode logits per tiny model), and nerkit's logits for one of them.

import { join } from "node:path";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { SessionOptions, TokenClassifierSession } from "../src/model/session.js";
import { fixturesDir, readJson } from "./helpers.js";

export interface ModelCase {
  input_ids: number[][];
  attention_mask: number[][];
  logits_eval: number[][][];
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
