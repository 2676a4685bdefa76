// What calibration learns from: one predicted entity of held-out data, whether it is exactly right,
// its raw score and the per-word logits that a temperature rescales. Made by the word tagger's
// caller (../../infer/entity-samples.ts); this module only names the shapes, so the fitting and
// scoring code here needs no model.

/** A score and whether the entity it belongs to is exactly right (type, first and last word as a gold entity). */
export interface ScoredOutcome {
  score: number;
  correct: boolean;
}

/** A predicted entity of held-out data. */
export interface EntitySample extends ScoredOutcome {
  type: string;
  /** The sentence's index in the data, and the entity's words [start, end). */
  sentence: number;
  start: number;
  end: number;
  /** Per word, the logits row (L) of its first sub-token; a temperature divides these. */
  logits: Float32Array[];
  /** The raw score (= score until a calibration is applied): the mean over the words of the winning label's probability. */
  rawScore: number;
}
