// The service's cleaning of the model's spans, before routing, redaction, storage and export: an
// entity that covers no word (empty, as byte-level BPE models give for a bare "Ġ" token, or only
// whitespace) is dropped, and of entities that overlap (RoBERTa-family models label two tokens of
// one character, or a token and the word around it) the one with the higher score is kept: the
// score is the model's confidence in that reading. The raw score where an entity has one (a
// calibrated model's): a calibration changes scores, never which spans are kept. Ties: the longer span, then the earlier start,
// then the order given. The pipeline itself keeps transformers' output as it is (parity tests);
// this step is what the service adds.
// What it leaves out: model against rule entities (mergeEntities ranks those, validated matches first).

import { hasWordCharacter } from "../text/word-tokenizer.js";
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
  return span.end > span.start && hasWordCharacter(text, span.start, span.end);
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
  // Sorted by start, the candidates fall into clusters: runs in which each span starts before the
  // furthest end so far. Spans of different clusters never overlap, so the best-first choice can be
  // made in each cluster alone, with the same result as over all of them at once; a long text's
  // tens of thousands of entities are nearly all clusters of one. (Choosing over all of them at
  // once, inserting each kept span into a sorted list, moved memory quadratically and held the
  // event loop for a quarter of a second on six 100,000-character texts.)
  const byStart = candidates.map((_, i) => i).sort((i, j) => candidates[i].start - candidates[j].start || i - j);
  const kept: E[] = [];
  let cluster: number[] = [];
  let clusterEnd = -Infinity;
  const settle = () => {
    if (cluster.length === 1) kept.push(candidates[cluster[0]]);
    else if (cluster.length > 1) kept.push(...bestFirst(cluster.map((i) => candidates[i]), cluster));
    cluster = [];
  };
  for (const i of byStart) {
    if (candidates[i].start >= clusterEnd) {
      settle();
      clusterEnd = -Infinity;
    }
    cluster.push(i);
    clusterEnd = Math.max(clusterEnd, candidates[i].end);
  }
  settle();
  return kept;
}

/** Of overlapping spans (one cluster; `order`: their places in the caller's list, for ties), the best first, each kept unless it overlaps one kept before; sorted by start. */
function bestFirst<E extends ScoredSpan>(spans: readonly E[], order: readonly number[]): E[] {
  const ranked = spans.map((_, k) => k).sort((a, b) => outranks(spans[a], spans[b]) || order[a] - order[b]);
  // Kept spans are disjoint, so kept sorted by start lets a span be checked against its two
  // neighbours only (a binary search): a cluster can be large (one long span over many short ones).
  const kept: E[] = [];
  for (const k of ranked) {
    const span = spans[k];
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid].start < span.start) lo = mid + 1;
      else hi = mid;
    }
    const before = kept[lo - 1];
    const after = kept[lo];
    if ((before && overlaps(span, before)) || (after && overlaps(span, after))) continue;
    kept.splice(lo, 0, span);
  }
  return kept;
}
