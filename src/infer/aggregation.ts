// From per-token label probabilities to entities, with the aggregation strategies of transformers'
// TokenClassificationPipeline (none, simple, first, average, max), reproduced rule for rule so that
// nerkit's output equals the pipeline's, ties and oddities included:
// - a word is a token plus the following tokens marked as sub-words;
// - "first" takes the first token's label, "max" the token with the highest probability (the first
//   such token on a tie), "average" the label with the highest mean probability;
// - grouping joins adjacent items of the same type unless the next one is B-, and a label without
//   a B-/I- prefix (such as "O") is treated as I-, so runs of "O" group too (and are filtered later);
// - entities from overlapping windows are reduced to the longest (then the highest-scoring) one
//   among those starting inside another.
// Scores are float32, as the pipeline's numpy arithmetic is.

export type AggregationStrategy = "none" | "simple" | "first" | "average" | "max";
export const AGGREGATION_STRATEGIES: readonly AggregationStrategy[] = ["none", "simple", "first", "average", "max"];

/** One non-special token of a window with its label probabilities. */
export interface TokenPrediction {
  /** Position of the token in its window (the pipeline's "index"). */
  index: number;
  /** The token as the tokenizer's vocabulary spells it ("##za", "Ġjohn", "▁Smi"). */
  token: string;
  start: number;
  end: number;
  /** Label probabilities, (L). */
  scores: Float32Array;
  isSubword: boolean;
}

export interface TokenEntity {
  label: string;
  score: number;
  index: number;
  word: string;
  start: number;
  end: number;
}

export interface GroupedEntity {
  type: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

/** Joins tokens into text the way the tokenizer's decoder does (convert_tokens_to_string). */
export type TokensToString = (tokens: string[]) => string;

/** numpy's argmax: the first index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Row-wise softmax of (T, L) logits, max-shifted and rounded to float32 as numpy does with float32 input. */
export function softmaxRows(logits: Float32Array, rows: number, labels: number, offset = 0): Float32Array[] {
  const out: Float32Array[] = [];
  for (let t = 0; t < rows; t++) {
    const base = offset + t * labels;
    let max = -Infinity;
    for (let l = 0; l < labels; l++) max = Math.max(max, logits[base + l]);
    const row = new Float32Array(labels);
    let sum = 0;
    for (let l = 0; l < labels; l++) {
      row[l] = Math.exp(Math.fround(logits[base + l] - max));
      sum += row[l];
    }
    const total = Math.fround(sum);
    for (let l = 0; l < labels; l++) row[l] = row[l] / total;
    out.push(row);
  }
  return out;
}

/** A unit that gets one label: a token (none, simple) or a word (first, average, max). */
export interface LabelledItem {
  tokens: readonly TokenPrediction[];
  /** The probabilities the label is chosen from, (L). */
  scores: Float32Array;
}

/** Float32 mean, as numpy's mean of float32 values. */
export function meanFloat32(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum = Math.fround(sum + v);
  return Math.fround(sum / values.length);
}

/** The probabilities a word's label is chosen from under "first", "max" or "average". */
function wordScores(group: readonly TokenPrediction[], strategy: "first" | "average" | "max"): Float32Array {
  if (strategy === "first") return group[0].scores;
  if (strategy === "max") {
    let best = group[0];
    let bestMax = Math.max(...best.scores);
    for (const t of group.slice(1)) {
      const m = Math.max(...t.scores);
      if (m > bestMax) {
        best = t;
        bestMax = m;
      }
    }
    return best.scores;
  }
  const mean = new Float32Array(group[0].scores.length);
  for (let l = 0; l < mean.length; l++) mean[l] = meanFloat32(group.map((t) => t.scores[l]));
  return mean;
}

/** Tokens (none, simple) or words (first, average, max: a token and the sub-word tokens after it). */
export function labelledItems(tokens: readonly TokenPrediction[], strategy: AggregationStrategy): LabelledItem[] {
  if (strategy === "none" || strategy === "simple") return tokens.map((t) => ({ tokens: [t], scores: t.scores }));
  const items: LabelledItem[] = [];
  let group: TokenPrediction[] = [];
  const close = () => group.length > 0 && items.push({ tokens: group, scores: wordScores(group, strategy) });
  for (const token of tokens) {
    if (group.length > 0 && !token.isSubword) {
      close();
      group = [];
    }
    group.push(token);
  }
  close();
  return items;
}

/**
 * Each item with its label (argmax, or the given `chosen` label ids) and that label's probability.
 * Words are spelled by the decoder (`toString`), tokens as the vocabulary spells them.
 */
export function labelItems(items: readonly LabelledItem[], labels: readonly string[], toString: TokensToString | undefined, chosen?: readonly number[]): TokenEntity[] {
  return items.map((item, i) => {
    const best = chosen ? chosen[i] : argmax(item.scores);
    const first = item.tokens[0];
    const last = item.tokens[item.tokens.length - 1];
    return {
      label: labels[best],
      score: item.scores[best],
      index: first.index,
      word: toString ? toString(item.tokens.map((t) => t.token)) : first.token,
      start: first.start,
      end: last.end,
    };
  });
}

/** The pipeline's get_tag: ("B" | "I", type); a label without a B-/I- prefix counts as I-. */
function bioOf(label: string): [string, string] {
  if (label.startsWith("B-")) return ["B", label.slice(2)];
  if (label.startsWith("I-")) return ["I", label.slice(2)];
  return ["I", label];
}

function groupOf(items: readonly TokenEntity[], toString: TokensToString): GroupedEntity {
  const first = items[0].label;
  const hyphen = first.indexOf("-");
  return {
    type: hyphen === -1 ? first : first.slice(hyphen + 1),
    score: meanFloat32(items.map((e) => e.score)),
    word: toString(items.map((e) => e.word)),
    start: items[0].start,
    end: items[items.length - 1].end,
  };
}

/** Joins adjacent items of the same type into entities; a B- item always starts a new one. */
export function groupEntities(items: readonly TokenEntity[], toString: TokensToString): GroupedEntity[] {
  const groups: GroupedEntity[] = [];
  let run: TokenEntity[] = [];
  for (const item of items) {
    if (run.length > 0) {
      const [bi, type] = bioOf(item.label);
      const [, lastType] = bioOf(run[run.length - 1].label);
      if (type !== lastType || bi === "B") {
        groups.push(groupOf(run, toString));
        run = [];
      }
    }
    run.push(item);
  }
  if (run.length > 0) groups.push(groupOf(run, toString));
  return groups;
}

/** Entities of windows that overlap: among entities starting inside another, keep the longest, then the highest score. */
export function mergeOverlapping<T extends { start: number; end: number; score: number }>(entities: readonly T[]): T[] {
  if (entities.length === 0) return [];
  const sorted = [...entities].sort((a, b) => a.start - b.start); // stable, as Python's sorted
  const kept: T[] = [];
  let previous = sorted[0];
  for (const entity of sorted) {
    if (previous.start <= entity.start && entity.start < previous.end) {
      const length = entity.end - entity.start;
      const previousLength = previous.end - previous.start;
      if (length > previousLength || (length === previousLength && entity.score > previous.score)) previous = entity;
    } else {
      kept.push(previous);
      previous = entity;
    }
  }
  kept.push(previous);
  return kept;
}
