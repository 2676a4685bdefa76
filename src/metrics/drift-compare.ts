// The drift statistics of a window against a reference, each as a PSI (./psi.ts) and whether it
// alerts: above the threshold, with enough observations on both sides that the PSI means
// something. With n observations in k bins PSI's expected value under no drift is about
// (k − 1)·(1/n + 1/m) (m the reference's): 0.05–0.1 for 100–200 documents in 10 bins, so below
// MIN_DOCUMENTS documents (or MIN_ENTITIES entities for a score or label statistic) a statistic is
// reported but never alerts. Statistics: score (all types), score:TYPE per type in the reference,
// entityRate, textLength, rarePieces (when both sides measured it), labels.
// What it leaves out: time (the caller's window decides which documents count).

import { DriftCounts } from "./drift.js";
import { psi } from "./psi.js";

export const MIN_DOCUMENTS = 200;
export const MIN_ENTITIES = 100;

export interface DriftStatistic {
  name: string;
  psi: number;
  alert: boolean;
  /** Observations in the window (documents, or entities for score and labels statistics). */
  observations: number;
  /** Fewer observations than the statistic needs to alert (on either side). */
  tooFew: boolean;
}

export interface CompareOptions {
  threshold: number;
  /** Documents both sides need before a document statistic may alert (MIN_DOCUMENTS by default). */
  minDocuments?: number;
  /** Entities both sides need before a score or label statistic may alert (MIN_ENTITIES by default). */
  minEntities?: number;
}

/** The label distribution over the union of both sides' types, in a stable order. */
function labelHistograms(reference: DriftCounts, current: DriftCounts): [number[], number[]] {
  const types = [...new Set([...reference.labels.keys(), ...current.labels.keys()])].sort();
  return [types.map((t) => reference.labels.get(t) ?? 0), types.map((t) => current.labels.get(t) ?? 0)];
}

export function compareDrift(reference: DriftCounts, current: DriftCounts, options: CompareOptions): DriftStatistic[] {
  const minDocuments = options.minDocuments ?? MIN_DOCUMENTS;
  const minEntities = options.minEntities ?? MIN_ENTITIES;
  const out: DriftStatistic[] = [];
  const add = (name: string, ref: readonly number[], cur: readonly number[], min: number) => {
    const sum = (h: readonly number[]) => h.reduce((a, b) => a + b, 0);
    const value = psi(ref, cur);
    const tooFew = sum(ref) < min || sum(cur) < min;
    out.push({ name, psi: value, alert: !tooFew && value > options.threshold, observations: sum(cur), tooFew });
  };
  add("score", reference.score, current.score, minEntities);
  for (const type of [...reference.scoreByType.keys()].sort()) {
    add(`score:${type}`, reference.scoreByType.get(type)!, current.scoreByType.get(type) ?? reference.score.map(() => 0), minEntities);
  }
  add("entityRate", reference.entityRate, current.entityRate, minDocuments);
  add("textLength", reference.textLength, current.textLength, minDocuments);
  if (reference.rarePieces.some((c) => c > 0) && current.rarePieces.some((c) => c > 0)) add("rarePieces", reference.rarePieces, current.rarePieces, minDocuments);
  const [refLabels, curLabels] = labelHistograms(reference, current);
  add("labels", refLabels, curLabels, minEntities);
  return out;
}
