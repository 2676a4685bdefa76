// The promotion gate: a candidate model replaces the serving one only if, on the same gold set
// (seqeval's entity-level scores, seqeval.ts), its micro F1 rises by at least promoteMargin points
// and no entity type's F1 falls by more than maxTypeDrop points. A type the serving model is not
// scored on (new in the gold set or the candidate's predictions) cannot fall; a type the candidate
// is not scored on counts as F1 0 for it. Differences are compared in points (F1 × 100), rounded to
// 1e-9 points so that a rise of exactly the margin passes whatever the float arithmetic left over.
// What it leaves out: significance tests (the margin stands in for one), and scoring the models
// (the caller evaluates them: train/evaluate-file.ts).

import { compareCodePoints } from "../text/code-point-order.js";
import { EvaluationReport } from "./seqeval.js";

export interface GateScores {
  microF1: number;
  /** F1 per entity type (own properties, so a type named "__proto__" is one like any other). */
  perType: Record<string, number>;
  /** Entities in the gold set. */
  support: number;
}

export interface GateThresholds {
  /** Points of micro F1 the candidate must gain. */
  promoteMargin: number;
  /** Points of F1 any one type may lose. */
  maxTypeDrop: number;
}

export const DEFAULT_GATE: GateThresholds = { promoteMargin: 0.5, maxTypeDrop: 2 };

export interface GateVerdict {
  decision: "promote" | "keep-candidate";
  reason: string;
}

/** A report's scores as the gate compares them. */
export function gateScores(report: EvaluationReport): GateScores {
  const perType = Object.fromEntries([...report.types].map(([type, scores]) => [type, scores.f1]));
  const support = [...report.types.values()].reduce((n, s) => n + s.support, 0);
  return { microF1: report.overall.f1, perType, support };
}

/** Points, rounded to 1e-9 (float noise of a difference of two F1 values is far below that). */
function points(difference: number): number {
  return Math.round(difference * 100 * 1e9) / 1e9;
}

const fixed = (x: number) => x.toFixed(2);

/** The gate's decision for candidate against serving, with one line saying which figures decided. */
export function gate(candidate: GateScores, serving: GateScores, thresholds: GateThresholds = DEFAULT_GATE): GateVerdict {
  const rise = points(candidate.microF1 - serving.microF1);
  const f1 = `micro F1 ${fixed(serving.microF1 * 100)} → ${fixed(candidate.microF1 * 100)} (${rise >= 0 ? `+${fixed(rise)}` : `−${fixed(-rise)}`} points)`;
  const own = (record: Record<string, number>, type: string) => (Object.prototype.hasOwnProperty.call(record, type) ? record[type] : undefined);
  const drops = Object.keys(serving.perType)
    .map((type) => ({ type, drop: points(serving.perType[type] - (own(candidate.perType, type) ?? 0)) }))
    .sort((a, b) => b.drop - a.drop || compareCodePoints(a.type, b.type));
  const fallen = drops.filter((d) => d.drop > thresholds.maxTypeDrop);
  if (fallen.length > 0) {
    const list = fallen.map((d) => `${d.type} −${fixed(d.drop)}`).join(", ");
    return { decision: "keep-candidate", reason: `kept as candidate: ${f1}, but F1 fell more than ${fixed(thresholds.maxTypeDrop)} points for ${list}` };
  }
  if (rise < thresholds.promoteMargin) {
    return { decision: "keep-candidate", reason: `kept as candidate: ${f1}, below the promote margin of ${fixed(thresholds.promoteMargin)} points` };
  }
  const largest = drops.find((d) => d.drop > 0);
  return {
    decision: "promote",
    reason: `promoted: ${f1}, at least the margin of ${fixed(thresholds.promoteMargin)}; no type fell more than ${fixed(thresholds.maxTypeDrop)} points${largest ? ` (largest fall: ${largest.type} −${fixed(largest.drop)})` : ""}`,
  };
}
