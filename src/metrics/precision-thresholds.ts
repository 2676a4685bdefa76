// Accept thresholds with a precision guarantee: for one entity type, the lowest score threshold at
// which the held-out entities scoring at or above it show, with the asked confidence, a precision of
// at least the target (the one-sided Clopper-Pearson lower bound ≥ target); and the parsing of the
// --target-precision flag that asks for it (calibrate records thresholds, serve routes on them).
// What it leaves out: calibrating scores (the scores given are whatever the caller routes on) and
// reading or writing calibration.json (calibration-file.ts).
//
// Why the guarantee survives the scan. Trying many thresholds and keeping the lowest that passes
// would, with many tries, find one that passes by luck. Fixed-sequence testing avoids that: the
// candidate thresholds are tested in an order fixed before the labels are looked at (from the
// highest score down), each at level 1 − confidence, and the scan stops at the first one that fails;
// the probability that any accepted threshold has a true precision below the target is then at most
// 1 − confidence (family-wise error control of the fixed-sequence procedure; Angelopoulos, Bates,
// Candès, Jordan & Lei, "Learn then Test: Calibrating Predictive Algorithms to Achieve Risk
// Control", 2021, arXiv:2110.01052, section 3). The candidates are the distinct held-out scores; the
// sequence begins at the highest one below which at least `entitiesNeeded(target, confidence)`
// entities score, because fewer could not show the target even if all were right, a fact that
// depends on the scores alone, not on which entities are right, so the order is still fixed before
// the labels are read. The guarantee is about held-out data like the data served (exchangeable).

import { NerkitError } from "../errors.js";
import { PrecisionThreshold } from "./calibration-file.js";
import { clopperPearsonLower } from "./precision-bounds.js";

/** One held-out entity: the score routing would see, and whether it is exactly right. */
export interface ScoredSample {
  score: number;
  correct: boolean;
}

export const DEFAULT_CONFIDENCE = 0.95;

function checkTarget(target: number, confidence: number): void {
  // A target of 1 can never be shown: the lower bound is below 1 for any finite count.
  if (!(target > 0 && target < 1)) throw new NerkitError("E_USAGE", `a precision target must be between 0 and 1 (exclusive), got ${target}`);
  if (!(confidence > 0 && confidence < 1)) throw new NerkitError("E_USAGE", `--confidence must be between 0 and 1 (exclusive), got ${confidence}`);
}

/** The fewest entities, all right, whose lower bound reaches the target: the smallest n with (1 − c)^(1/n) ≥ target. */
export function entitiesNeeded(target: number, confidence = DEFAULT_CONFIDENCE): number {
  checkTarget(target, confidence);
  let n = Math.max(1, Math.floor(Math.log(1 - confidence) / Math.log(target)));
  // The closed form, corrected for rounding at the boundary by the bound itself.
  while (clopperPearsonLower(n, n, confidence) < target) n++;
  while (n > 1 && clopperPearsonLower(n - 1, n - 1, confidence) >= target) n--;
  return n;
}

/** The scan's outcome for one type: the record, and the candidates tried (highest first) for whoever wants to show them. */
export interface ThresholdChoice {
  record: PrecisionThreshold;
  /** Each candidate threshold tried, in order, with its counts and bound; the last one failed unless the candidates ran out. */
  tried: Array<{ threshold: number; accepted: number; correct: number; lowerBound: number; passed: boolean }>;
}

/** The lowest accept threshold whose held-out precision bound reaches the target (fixed-sequence scan, see above). */
export function chooseThreshold(samples: readonly ScoredSample[], target: number, confidence = DEFAULT_CONFIDENCE): ThresholdChoice {
  checkTarget(target, confidence);
  for (const [i, s] of samples.entries()) {
    if (!Number.isFinite(s.score)) throw new NerkitError("E_FORMAT", `held-out entity ${i} has no finite score (${s.score})`);
  }
  const sorted = [...samples].sort((a, b) => b.score - a.score);
  const needed = entitiesNeeded(target, confidence);
  const record: PrecisionThreshold = { target, confidence, threshold: null, lowerBound: null, accepted: 0, correct: 0, heldOut: samples.length, autoAcceptRate: 0 };
  const tried: ThresholdChoice["tried"] = [];
  let correct = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].correct) correct++;
    // A candidate is a distinct score: every entity with the same score is accepted with it.
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
    const accepted = i + 1;
    if (accepted < needed) continue;
    const lowerBound = clopperPearsonLower(correct, accepted, confidence);
    const passed = lowerBound >= target;
    tried.push({ threshold: sorted[i].score, accepted, correct, lowerBound, passed });
    if (!passed) break;
    Object.assign(record, { threshold: sorted[i].score, lowerBound, accepted, correct, autoAcceptRate: accepted / samples.length });
  }
  return { record, tried };
}

/** What --target-precision asked for: targets for every type, and per type (which replace those for that type). */
export interface PrecisionTargets {
  all: number[];
  perType: Map<string, number[]>;
}

export function noTargets(): PrecisionTargets {
  return { all: [], perType: new Map() };
}

/**
 * Adds one --target-precision value ("0.95" for every type, "PER=0.97" for one), as commander's
 * repeatable-option reducer: `.option("--target-precision <x>", "...", addPrecisionTarget, noTargets())`.
 */
export function addPrecisionTarget(value: string, previous: PrecisionTargets = noTargets()): PrecisionTargets {
  const match = /^\s*(?:([^=\s]+)=)?\s*([^=\s]+)\s*$/.exec(value);
  const target = match ? Number(match[2]) : NaN;
  if (!match || !(target > 0 && target < 1)) {
    throw new NerkitError("E_USAGE", `--target-precision expects a precision between 0 and 1 (exclusive) for every type (0.95) or for one type (PER=0.97), got '${value}'`);
  }
  const next: PrecisionTargets = { all: [...previous.all], perType: new Map([...previous.perType].map(([t, list]) => [t, [...list]])) };
  const list = match[1] === undefined ? next.all : (next.perType.get(match[1]) ?? next.perType.set(match[1], []).get(match[1])!);
  if (!list.includes(target)) list.push(target);
  return next;
}

/** The targets of one type: its own when it has any, else those for every type. */
export function targetsFor(targets: PrecisionTargets, type: string): number[] {
  return targets.perType.get(type) ?? targets.all;
}

export interface ThresholdsByType {
  thresholds: Map<string, PrecisionThreshold[]>;
  /** One line per type and target that gets no auto-accept, naming the type and why. */
  warnings: string[];
}

/**
 * Thresholds for every type that has held-out entities or a target of its own. A type named in
 * a target but absent from the held-out data gets a record with threshold null (and a warning).
 */
export function chooseThresholds(samplesByType: ReadonlyMap<string, readonly ScoredSample[]>, targets: PrecisionTargets, confidence = DEFAULT_CONFIDENCE): ThresholdsByType {
  const thresholds = new Map<string, PrecisionThreshold[]>();
  const warnings: string[] = [];
  const types = [...new Set([...samplesByType.keys(), ...targets.perType.keys()])].sort();
  for (const type of types) {
    const samples = samplesByType.get(type) ?? [];
    const records: PrecisionThreshold[] = [];
    for (const target of targetsFor(targets, type)) {
      const { record } = chooseThreshold(samples, target, confidence);
      records.push(record);
      if (record.threshold !== null) continue;
      const needed = entitiesNeeded(target, confidence);
      warnings.push(
        samples.length < needed
          ? `${type}: ${samples.length} held-out entities; precision ${target} at confidence ${confidence} needs at least ${needed} (all of them right): no auto-accept, everything of type ${type} goes to review`
          : `${type}: the held-out entities do not show precision ${target} at confidence ${confidence} at any threshold (the ${needed} highest-scoring hold ${countCorrectOfTop(samples, needed)} right): no auto-accept, everything of type ${type} goes to review`,
      );
    }
    if (records.length > 0) thresholds.set(type, records);
  }
  return { thresholds, warnings };
}

function countCorrectOfTop(samples: readonly ScoredSample[], n: number): number {
  return [...samples].sort((a, b) => b.score - a.score).slice(0, n).filter((s) => s.correct).length;
}

/**
 * Thresholds for the same (type, target, confidence) records as `like` (another calibration's), chosen
 * on `samplesByType`: a retrained version is calibrated for the targets its parent served with.
 */
export function thresholdsLike(like: ReadonlyMap<string, readonly PrecisionThreshold[]>, samplesByType: ReadonlyMap<string, readonly ScoredSample[]>): Map<string, PrecisionThreshold[]> {
  const thresholds = new Map<string, PrecisionThreshold[]>();
  for (const [type, records] of like) thresholds.set(type, records.map((r) => chooseThreshold(samplesByType.get(type) ?? [], r.target, r.confidence).record));
  return thresholds;
}
