// The batches a teacher reads the training examples in, once, to cache its outputs (logits:
// teacher-cache.ts; hidden states: teacher-hidden.ts): longest first, so each batch pads little
// (the order changes no row's outputs), padded to the batch's first (longest) example.
// What it leaves out: running the teacher and where each row's outputs go (the callers').

import { Example } from "../examples.js";

export interface TeacherBatch {
  /** Indices into the examples, one per row. */
  rows: number[];
  /** Tokens per row (the longest row's). */
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
}

/** The examples in padded batches of at most `batchSize`, longest first. */
export function* teacherBatches(examples: readonly Example[], batchSize: number, padTokenId: number): Generator<TeacherBatch> {
  const order = examples.map((_, i) => i).sort((a, b) => examples[b].inputIds.length - examples[a].inputIds.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize);
    const length = examples[rows[0]].inputIds.length;
    const inputIds = new BigInt64Array(rows.length * length).fill(BigInt(padTokenId));
    const attentionMask = new BigInt64Array(rows.length * length);
    rows.forEach((i, r) =>
      examples[i].inputIds.forEach((id, t) => {
        inputIds[r * length + t] = BigInt(id);
        attentionMask[r * length + t] = 1n;
      }),
    );
    yield { rows, length, inputIds, attentionMask };
  }
}
