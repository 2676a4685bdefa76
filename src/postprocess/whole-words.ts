// The spans a redaction replaces: every entity widened to the words it touches (src/text/words.ts
// says what a word is), then widened spans that overlap or touch merged into one, so that a name the
// model labelled piece by piece ("D" PER, "ario" LOC) is replaced once, whole. Entities of any
// source (model or rule) are treated alike; a rule match is usually whole words already.
// The type of a merged span is that of its highest-scoring entity (an entity without a score counts
// as 0; on a tie, the one that starts first, then the one given first): the score is the model's
// (or the rule's) confidence in that type, so the most confident reading names the region; the raw
// score where a calibrated model's entity has one, so that a calibration never changes a replacement.
// What it leaves out: choosing between overlapping entities before redaction (mergeEntities does
// that for model against rule); here an overlap simply becomes one region.

import { WordSpan, wordAround, wordSpans } from "../text/words.js";

export interface ScoredSpan {
  type: string;
  start: number;
  end: number;
  score?: number;
  raw_score?: number;
}

/** A region to replace. */
export interface Region {
  type: string;
  start: number;
  end: number;
}

/** The span pushed out to the edges of the words its ends fall inside. */
export function widenToWords(words: readonly WordSpan[], span: { start: number; end: number }): { start: number; end: number } {
  return { start: wordAround(words, span.start)?.start ?? span.start, end: wordAround(words, span.end)?.end ?? span.end };
}

function outranks(a: ScoredSpan, b: ScoredSpan): boolean {
  return (a.raw_score ?? a.score ?? 0) > (b.raw_score ?? b.score ?? 0);
}

/** Whole-word regions of `text` covering `spans`, sorted, none overlapping or touching another. */
export function wholeWordRegions(text: string, spans: readonly ScoredSpan[]): Region[] {
  if (spans.length === 0) return [];
  const words = wordSpans(text);
  const widened = spans
    .map((span, order) => ({ span, order, ...widenToWords(words, span) }))
    .sort((a, b) => a.start - b.start || a.span.start - b.span.start || a.order - b.order);
  const regions: Region[] = [];
  let best: ScoredSpan | undefined;
  for (const { span, start, end } of widened) {
    const last = regions[regions.length - 1];
    if (last && start <= last.end) {
      last.end = Math.max(last.end, end);
      if (outranks(span, best!)) {
        best = span;
        last.type = span.type;
      }
    } else {
      regions.push({ type: span.type, start, end });
      best = span;
    }
  }
  return regions;
}
