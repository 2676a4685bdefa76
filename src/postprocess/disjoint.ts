// The service's cleaning of the model's spans, before routing, redaction, storage and export: an
// entity that covers no word (empty, as byte-level BPE models give for a bare "Ġ" token, or only
// whitespace) is dropped, and of entities that overlap (RoBERTa-family models label two tokens of
// one character, or a token and the word around it) the one with the higher score is kept: the
// score is the model's confidence in that reading. The raw score where an entity has one (a
// calibrated model's): a calibration changes scores, never which spans are kept. Ties: the longer span, then the earlier start,
// then the order given. The pipeline itself keeps transformers' output as it is (parity tests);
// this step is what the service adds.
// What it leaves out: model against rule entities (mergeEntities ranks those, validated matches first).

import { tokenizeWords } from "../text/word-tokenizer.js";
import { overlaps } from "./entity.js";

export interface ScoredSpan {
  start: number;
  end: number;
  score: number;
  /** A calibrated model's uncalibrated score: spans are ranked on it when present. */
  raw_score?: number;
}

/** The score overlaps are settled on: the raw one when the entity has it. */
export function rankingScore(span: ScoredSpan): number {
  return span.raw_score ?? span.score;
}

/** Whether [start, end) of `text` holds a word: a non-whitespace character (word-tokenizer.ts's whitespace, the one CoNLL export splits at). */
export function coversWord(text: string, span: { start: number; end: number }): boolean {
  return span.end > span.start && tokenizeWords(text.slice(span.start, span.end)).length > 0;
}

function outranks(a: ScoredSpan, b: ScoredSpan): number {
  // A NaN score ranks below every number.
  const sa = Number.isNaN(rankingScore(a)) ? -Infinity : rankingScore(a);
  const sb = Number.isNaN(rankingScore(b)) ? -Infinity : rankingScore(b);
  return sb - sa || b.end - b.start - (a.end - a.start) || a.start - b.start;
}

/** The entities that cover a word, none overlapping another, sorted by start. */
export function disjointSpans<E extends ScoredSpan>(text: string, entities: readonly E[]): E[] {
  const candidates = entities.filter((e) => coversWord(text, e));
  const order = candidates.map((_, i) => i).sort((i, j) => outranks(candidates[i], candidates[j]) || i - j);
  // Kept spans are disjoint, so kept sorted by start lets a candidate be checked against its two
  // neighbours only (a binary search): a long text's thousands of entities in n log n, where
  // checking every kept span held the event loop for seconds.
  const kept: E[] = [];
  for (const i of order) {
    const candidate = candidates[i];
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid].start < candidate.start) lo = mid + 1;
      else hi = mid;
    }
    const before = kept[lo - 1];
    const after = kept[lo];
    if ((before && overlaps(candidate, before)) || (after && overlaps(candidate, after))) continue;
    kept.splice(lo, 0, candidate);
  }
  return kept;
}
