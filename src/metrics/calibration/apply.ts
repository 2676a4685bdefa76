// A calibration applied to held-out entities: the calibrated score of each, by the contract of
// ../calibration-file.ts (temperature on the per-word logits, isotonic on the raw score per type),
// and the entities grouped by type with their calibrated scores (what threshold choice reads).

import { CalibrationFile, calibratedScore } from "../calibration-file.js";
import { EntitySample, ScoredOutcome } from "./entity-sample.js";
import { temperedScore } from "./temperature.js";

/** The calibrated score of one held-out entity. */
export function calibratedEntityScore(calibration: CalibrationFile, sample: Pick<EntitySample, "type" | "logits" | "rawScore">): number {
  if (calibration.method === "temperature") return temperedScore(sample.logits, calibration.temperature);
  return calibratedScore(calibration, sample.type, sample.rawScore);
}

/** The entities with their calibrated scores. */
export function calibratedSamples(samples: readonly EntitySample[], calibration: CalibrationFile): EntitySample[] {
  return samples.map((s) => ({ ...s, score: calibratedEntityScore(calibration, s) }));
}

/** Outcomes grouped by entity type (in first-seen order), each with its sample's `score`. */
export function outcomesByType(samples: readonly (ScoredOutcome & { type: string })[]): Map<string, ScoredOutcome[]> {
  const byType = new Map<string, ScoredOutcome[]>();
  for (const s of samples) {
    let list = byType.get(s.type);
    if (!list) byType.set(s.type, (list = []));
    list.push({ score: s.score, correct: s.correct });
  }
  return byType;
}

/** Held-out entities per type with their calibrated scores: what choosing a threshold per type reads. */
export function calibratedOutcomesByType(samples: readonly EntitySample[], calibration: CalibrationFile): Map<string, ScoredOutcome[]> {
  return outcomesByType(calibratedSamples(samples, calibration));
}
