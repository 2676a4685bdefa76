// The teacher's soft targets carried by each example of a distillation run, and their padded
// batch form: the teacher's logits on the tokens that carry a label (word starts: the first
// sub-token of each word, or every sub-token with --label-all-subtokens), kept as half-precision
// bits as they are cached (teacher-cache.ts) and widened to float32 only for the batch in hand.
// Shapes: B batch, T tokens, L labels. Other tokens get a zero mask (and zero logits, never read).

import { f16ToF32 } from "../../model/checkpoint/dtypes.js";

export interface SoftTargets {
  /** Token indices, ascending, that take the soft-target loss. */
  positions: number[];
  /** The teacher's logits at those tokens: (positions.length, L) binary16 bits. */
  logits: Uint16Array;
  labelCount: number;
}

/** teacherLogits (B, T, L) and softMask (B, T) for a batch padded to `length`; nothing when the examples carry no soft targets. */
export function collateSoftTargets(examples: readonly { soft?: SoftTargets }[], rows: number, length: number): { teacherLogits: Float32Array; softMask: Float32Array } | Record<string, never> {
  if (!examples.some((e) => e.soft)) return {};
  const labelCount = examples.find((e) => e.soft)!.soft!.labelCount;
  const teacherLogits = new Float32Array(rows * length * labelCount); // (B, T, L)
  const softMask = new Float32Array(rows * length); // (B, T)
  examples.forEach((e, r) => {
    if (!e.soft) throw new Error("distillation: an example without the teacher's logits");
    const values = f16ToF32(e.soft.logits); // (P, L)
    e.soft.positions.forEach((t, p) => {
      softMask[r * length + t] = 1;
      teacherLogits.set(values.subarray(p * labelCount, (p + 1) * labelCount), (r * length + t) * labelCount);
    });
  });
  return { teacherLogits, softMask };
}

/** The tokens of a labelled example that take the soft loss: those with a gold label. */
export function labelledPositions(example: { labels: readonly number[] }): number[] {
  const positions: number[] = [];
  example.labels.forEach((label, t) => {
    if (label >= 0) positions.push(t);
  });
  return positions;
}
