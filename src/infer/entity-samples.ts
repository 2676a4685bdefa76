// Held-out entities for calibration: from the word tagger's tags and per-word logits
// (./word-tagger.ts) and the gold tags, each predicted entity with whether it is exactly right,
// its raw score and its words' logits. Entities are read from tags as seqeval's default mode reads
// them (../data/chunks.ts, the reading `nerkit evaluate` scores), and an entity is right when a
// gold entity has its type, first word and last word. The raw score is the mean over the entity's
// words of the winning label's probability (float32 softmax and mean, as ./aggregation.ts computes
// them): exactly the score the pipeline's "first" aggregation gives the same words.
// Left out: strict-mode reading (calibration is defined on default-mode entities).

import { conllevalChunks } from "../data/chunks.js";
import { TypeCounts } from "../metrics/calibration-file.js";
import { EntitySample } from "../metrics/calibration/entity-sample.js";
import { argmax, meanFloat32, softmaxRows } from "./aggregation.js";

export interface HeldOutEntities {
  samples: EntitySample[];
  /** Per type (code-point order not promised: first seen), predicted, right and gold entities. */
  counts: Map<string, TypeCounts>;
}

function countsOf(counts: Map<string, TypeCounts>, type: string): TypeCounts {
  let c = counts.get(type);
  if (!c) counts.set(type, (c = { predicted: 0, correct: 0, gold: 0 }));
  return c;
}

/** The winning label's probability of one word, as the pipeline computes it (float32). */
export function wordScore(logits: Float32Array): number {
  return softmaxRows(logits, 1, logits.length)[0][argmax(logits)];
}

/**
 * The predicted entities of each sentence, scored; `logits[s][w]` is word w's logits row (null only
 * for a word the tokenizer made no token of, which is tagged O and so in no entity).
 */
export function heldOutEntities(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[], logits: readonly (readonly (Float32Array | null)[])[]): HeldOutEntities {
  const samples: EntitySample[] = [];
  const counts = new Map<string, TypeCounts>();
  gold.forEach((goldTags, s) => {
    const goldChunks = conllevalChunks(goldTags);
    const exact = new Set(goldChunks.map((c) => `${c.start}\u0000${c.end}\u0000${c.type}`));
    for (const c of goldChunks) countsOf(counts, c.type).gold++;
    for (const chunk of conllevalChunks(predicted[s])) {
      const words: Float32Array[] = [];
      for (let w = chunk.start; w < chunk.end; w++) {
        const row = logits[s][w];
        if (!row) throw new RangeError(`sentence ${s + 1}, word ${w + 1}: an entity word without logits`);
        words.push(row);
      }
      const rawScore = meanFloat32(words.map(wordScore));
      const correct = exact.has(`${chunk.start}\u0000${chunk.end}\u0000${chunk.type}`);
      const c = countsOf(counts, chunk.type);
      c.predicted++;
      if (correct) c.correct++;
      samples.push({ type: chunk.type, sentence: s, start: chunk.start, end: chunk.end, logits: words, rawScore, score: rawScore, correct });
    }
  });
  return { samples, counts };
}
