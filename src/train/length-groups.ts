// The epoch order of `train --group-by-length`, as transformers' `group_by_length` makes it
// (LengthGroupedSampler / get_length_grouped_indices in trainer_pt_utils.py): a random permutation
// of the examples is cut into mega-batches of `multiplier × batch size` examples (multiplier 50,
// smaller for data under 200 batches: at most a quarter of the batches, at least 1); each mega-batch
// is sorted by length, longest first, so each batch cut from it holds examples of like length and
// pads little; then the longest example of all is swapped to the very front, so that a batch too
// large for memory fails at the first step rather than hours in. Like transformers, the batches of
// a mega-batch are not shuffled afterwards (each batch is still drawn from random examples).
// Left out: the distributed variant (one process here), and padding itself (batches.ts's collate).

import { SeededRandom } from "./random.js";

/** Batches per mega-batch, as transformers picks it: 50, fewer when there are under 200 batches. */
export function megaBatchMultiplier(count: number, batchSize: number): number {
  return Math.max(1, Math.min(Math.floor(count / (batchSize * 4)), 50));
}

/** A permutation of 0..lengths.length-1 whose consecutive `batchSize` slices hold examples of like length. */
export function lengthGroupedOrder(lengths: readonly number[], batchSize: number, random: SeededRandom): number[] {
  const shuffled = random.permutation(lengths.length);
  const megaBatchSize = megaBatchMultiplier(lengths.length, batchSize) * batchSize;
  const megaBatches: number[][] = [];
  for (let start = 0; start < shuffled.length; start += megaBatchSize) {
    // Array.prototype.sort is stable: examples of equal length keep their random order.
    megaBatches.push(shuffled.slice(start, start + megaBatchSize).sort((a, b) => lengths[b] - lengths[a]));
  }
  if (megaBatches.length === 0) return [];
  let longest = 0;
  megaBatches.forEach((m, i) => {
    if (lengths[m[0]] > lengths[megaBatches[longest][0]]) longest = i;
  });
  [megaBatches[0][0], megaBatches[longest][0]] = [megaBatches[longest][0], megaBatches[0][0]];
  return megaBatches.flat();
}
