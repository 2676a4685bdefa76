// Calibrated scores beside the raw ones, as the pipeline applies a model's calibration.json
// (../metrics/calibration-file.ts). Calibration changes scores only, never which entities are found
// or their labels: labels, grouping and the merging of overlapping windows are decided on the raw
// probabilities exactly as without calibration, so routing, review and redaction all see the spans
// an uncalibrated run finds (a calibration fitted later must not move spans reviewers already saw,
// and `raw_score` stays bit-identical to an uncalibrated run's `score`).
// - temperature: each item's score is recomputed with its strategy's own formula (aggregation.ts)
//   from softmax(logits / T) of the same tokens at the same label: none, simple, first: the
//   token's (the word's first token's) probability; max: the probability of the token the raw
//   scores chose; average: the float32 mean over the word's tokens; an entity then takes the
//   float32 mean of its items, as its raw score does.
// - isotonic: the entity's raw score through its type's map (calibratedScore); with aggregation
//   none, each token's score through the map of its label's type.
// --threshold compares the calibrated score (the one shown, the one routing uses). Without a
// calibration nothing here runs and the output has no raw_score (the parity tests' shapes).
// What it leaves out: fitting (`nerkit calibrate`); pre-split word tagging (tags only, no scores).

import { CalibrationFile, calibratedScore } from "../metrics/calibration-file.js";
import { AggregationStrategy, LabelledItem, TokenPrediction, meanFloat32, softmaxRows } from "./aggregation.js";

/** softmax(logits / T) per window position, (T, L) rows, float32 as the raw probabilities are. */
export function temperatureRows(logits: Float32Array, rows: number, labels: number, temperature: number): Float32Array[] {
  const scaled = new Float32Array(rows * labels); // (T, L)
  for (let i = 0; i < scaled.length; i++) scaled[i] = logits[i] / temperature;
  return softmaxRows(scaled, rows, labels);
}

/**
 * Each unit's score at temperature T: the raw score's formula applied to `scaled` rows (by window
 * position) at the unit's label `best[i]`, over the same tokens the raw score used.
 */
export function temperatureUnitScores(units: readonly LabelledItem[], best: readonly number[], strategy: AggregationStrategy, scaled: readonly Float32Array[]): number[] {
  return units.map((unit, i) => {
    const label = best[i];
    const row = (t: TokenPrediction) => scaled[t.index][label];
    if (strategy === "average") return meanFloat32(unit.tokens.map(row));
    if (strategy === "max") {
      // The word's probabilities are those of the token the raw scores picked (aggregation.ts's
      // wordScores returns that token's own row): the same token, not the one T would pick.
      return row(unit.tokens.find((t) => t.scores === unit.scores) ?? unit.tokens[0]);
    }
    return row(unit.tokens[0]); // none, simple: the token; first: the word's first token
  });
}

/** The score shown for an item of `type` whose raw score is `raw` and whose temperature score is `tempered`. */
export function calibratedOf(calibration: CalibrationFile, type: string, raw: number, tempered: number | undefined): number {
  return calibration.method === "temperature" ? (tempered ?? raw) : calibratedScore(calibration, type, raw);
}

/**
 * One run's calibrated scores: each item's is computed as it is found and kept aside while the
 * item's `score` still holds the raw one (overlapping windows are merged on raw scores), then
 * swapped in at the end, the raw score moving to `raw_score`. Without a calibration it does nothing.
 */
export class RunCalibration {
  private readonly calibrated = new Map<object, number>();

  constructor(private readonly calibration: CalibrationFile | undefined) {}

  /** T, when the calibration is temperature scaling (the run then scores each window at T too). */
  get temperature(): number | undefined {
    return this.calibration?.method === "temperature" ? this.calibration.temperature : undefined;
  }

  /** The score `item` (of entity type `type`) will show: calibrated, or its raw score without a calibration. */
  score(item: { score: number }, type: string, tempered: number | undefined): number {
    if (!this.calibration) return item.score;
    const score = calibratedOf(this.calibration, type, item.score, tempered);
    this.calibrated.set(item, score);
    return score;
  }

  /** The items as output: `score` calibrated and `raw_score` the raw one, keys in the order JSON shows them. */
  finish<T extends { score: number; word: string }>(items: T[]): T[] {
    if (!this.calibration) return items;
    return items.map((item) => {
      const { score, word, ...rest } = item;
      return { ...rest, score: this.calibrated.get(item)!, raw_score: score, word } as unknown as T;
    });
  }
}
