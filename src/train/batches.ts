// Examples into padded batches: a seeded shuffle per epoch (or the file's order, or with
// --group-by-length a shuffle grouped by length, length-groups.ts), padding to the longest example
// of each batch, -100 labels on padding.

import { Example } from "./examples.js";
import { TrainingBatch } from "./step-runner.js";
import { SeededRandom } from "./random.js";
import { collateSoftTargets } from "./distill/soft-targets.js";
import { collateTeacherHidden } from "./distill/hidden-targets.js";
import { lengthGroupedOrder } from "./length-groups.js";

export const IGNORE_LABEL = -100;

/** With --group-by-length: each example's length, and the batch size the groups are cut for. */
export interface LengthGrouping {
  lengths: readonly number[];
  batchSize: number;
}

/** The order examples are visited in one epoch: a function of the random state alone, so a resumed run recomputes it. */
export function epochOrder(count: number, random: SeededRandom | undefined, grouping?: LengthGrouping): number[] {
  if (random && grouping) return lengthGroupedOrder(grouping.lengths, grouping.batchSize, random);
  return random ? random.permutation(count) : Array.from({ length: count }, (_, i) => i);
}

export function collate(examples: readonly Example[], padTokenId: number): TrainingBatch {
  const rows = examples.length;
  const length = Math.max(...examples.map((e) => e.inputIds.length));
  const inputIds = new BigInt64Array(rows * length).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(rows * length);
  const labels = new BigInt64Array(rows * length).fill(BigInt(IGNORE_LABEL));
  examples.forEach((e, r) => {
    for (let t = 0; t < e.inputIds.length; t++) {
      inputIds[r * length + t] = BigInt(e.inputIds[t]);
      attentionMask[r * length + t] = 1n;
      labels[r * length + t] = BigInt(e.labels[t]);
    }
  });
  return { rows, length, inputIds, attentionMask, labels, ...collateSoftTargets(examples, rows, length), ...collateTeacherHidden(examples, rows, length) };
}

/** Tokens that carry a label (the loss is averaged over them). */
export function labelledTokens(batch: TrainingBatch): number {
  let n = 0;
  for (const l of batch.labels) if (l !== BigInt(IGNORE_LABEL)) n++;
  return n;
}
