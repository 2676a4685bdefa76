// How well scores match how often entities are right, at entity level: expected calibration error
// over 15 equal-width bins (Guo et al. 2017 use 15; Naeini et al. 2015 define it), with the
// reliability table it is made from, the negative log-likelihood and the Brier score of "the entity
// is exactly right". Bin b of 15 holds scores in [b/15, (b+1)/15); the last bin also holds 1.
// ECE = Σ_b (n_b / n) · |accuracy_b − mean confidence_b|.
// Left out: adaptive (equal-count) bins and class-wise ECE.

import { CalibrationQuality } from "../calibration-file.js";
import { ScoredOutcome } from "./entity-sample.js";

export const ECE_BINS = 15;

/** Probabilities are clipped to [ε, 1 − ε] in the NLL so that a calibrated 0 or 1 stays finite. */
export const NLL_EPSILON = 1e-12;

export interface ReliabilityBin {
  /** Scores in [low, high) (the last bin: [low, 1]). */
  low: number;
  high: number;
  count: number;
  /** Mean score and share of right entities in the bin; null for an empty bin. */
  confidence: number | null;
  accuracy: number | null;
}

/** The bin a score falls in, of `bins` equal-width bins over [0, 1]. */
export function binOf(score: number, bins = ECE_BINS): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
}

export function reliabilityTable(outcomes: readonly ScoredOutcome[], bins = ECE_BINS): ReliabilityBin[] {
  const counts = new Array<number>(bins).fill(0);
  const scores = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  for (const { score, correct } of outcomes) {
    const b = binOf(score, bins);
    counts[b]++;
    scores[b] += score;
    if (correct) right[b]++;
  }
  return counts.map((count, b) => ({
    low: b / bins,
    high: (b + 1) / bins,
    count,
    confidence: count === 0 ? null : scores[b] / count,
    accuracy: count === 0 ? null : right[b] / count,
  }));
}

/** ECE from a reliability table. */
export function expectedCalibrationError(table: readonly ReliabilityBin[]): number {
  const total = table.reduce((n, bin) => n + bin.count, 0);
  if (total === 0) return 0;
  let ece = 0;
  for (const bin of table) if (bin.count > 0) ece += (bin.count / total) * Math.abs(bin.accuracy! - bin.confidence!);
  return ece;
}

/** Mean binary cross-entropy of "right" under the scores. */
export function negativeLogLikelihood(outcomes: readonly ScoredOutcome[]): number {
  if (outcomes.length === 0) return 0;
  let sum = 0;
  for (const { score, correct } of outcomes) {
    const p = Math.min(1 - NLL_EPSILON, Math.max(NLL_EPSILON, score));
    sum -= correct ? Math.log(p) : Math.log(1 - p);
  }
  return sum / outcomes.length;
}

/** Mean squared difference between score and outcome (1 right, 0 wrong). */
export function brierScore(outcomes: readonly ScoredOutcome[]): number {
  if (outcomes.length === 0) return 0;
  let sum = 0;
  for (const { score, correct } of outcomes) sum += (score - (correct ? 1 : 0)) ** 2;
  return sum / outcomes.length;
}

export interface CalibrationReport extends CalibrationQuality {
  entities: number;
  bins: ReliabilityBin[];
}

/** ECE (with its table), NLL and Brier score of a set of scored entities. */
export function calibrationReport(outcomes: readonly ScoredOutcome[], bins = ECE_BINS): CalibrationReport {
  const table = reliabilityTable(outcomes, bins);
  return { ece: expectedCalibrationError(table), nll: negativeLogLikelihood(outcomes), brier: brierScore(outcomes), entities: outcomes.length, bins: table };
}

/** The three numbers calibration.json records. */
export function calibrationQuality(outcomes: readonly ScoredOutcome[]): CalibrationQuality {
  const { ece, nll, brier } = calibrationReport(outcomes);
  return { ece, nll, brier };
}
