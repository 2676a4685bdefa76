// Word labels → token labels for token classification, as the transformers NER recipe does it:
// the first sub-token of each word carries the word's label, the word's other sub-tokens and every
// special token get -100 (ignored by the loss); with labelAllSubtokens every sub-token of a word
// carries its label. "First" means the word id differs from the previous token's, exactly as in
// the recipe, so a word split around an added token restarts. Left out: B-→I- relabelling of
// continuation sub-tokens, which belongs to the tagging scheme, not to alignment.
// Hand-written: a few lines, and it must see the word ids the npm tokenizers package does not give.

import { NerkitError } from "../../errors.js";
import type { Encoding } from "./types.js";

export const IGNORE_INDEX = -100;

export function alignLabels(encoding: Encoding, wordLabels: number[], options: { labelAllSubtokens?: boolean } = {}): number[] {
  const labels = new Array<number>(encoding.wordIds.length);
  let previous: number | null = null;
  encoding.wordIds.forEach((word, i) => {
    if (word === null) {
      labels[i] = IGNORE_INDEX;
    } else {
      if (word >= wordLabels.length) {
        throw new NerkitError("E_MISMATCH", `token ${i} belongs to word ${word}, but only ${wordLabels.length} word labels were given`);
      }
      labels[i] = word !== previous || options.labelAllSubtokens ? wordLabels[word] : IGNORE_INDEX;
    }
    previous = word;
  });
  return labels;
}
