// Calibration quality of a model on labelled data, as `nerkit evaluate --model` reports it: the
// entity-level ECE over 15 equal-width bins with its reliability table (and NLL, Brier) of the raw
// scores, and, when the model folder has calibration.json, of the calibrated scores too.

import { CalibrationFile, CalibrationMethod } from "../calibration-file.js";
import { formatFixed } from "../numeric.js";
import { calibratedSamples } from "./apply.js";
import { EntitySample } from "./entity-sample.js";
import { CalibrationReport, ECE_BINS, calibrationReport } from "./quality.js";

export interface CalibrationEvaluation {
  raw: CalibrationReport;
  /** With the model's calibration applied; absent when the model has none. */
  calibrated?: CalibrationReport & { method: CalibrationMethod; temperature: number };
}

export function calibrationEvaluation(samples: readonly EntitySample[], calibration?: CalibrationFile): CalibrationEvaluation {
  const raw = calibrationReport(samples.map((s) => ({ score: s.rawScore, correct: s.correct })));
  if (!calibration) return { raw };
  return { raw, calibrated: { method: calibration.method, temperature: calibration.temperature, ...calibrationReport(calibratedSamples(samples, calibration)) } };
}

/** The `calibration` object of `evaluate --format json`. */
export function calibrationEvaluationJson(evaluation: CalibrationEvaluation): Record<string, unknown> {
  return {
    level: "entity",
    binning: `${ECE_BINS} equal-width bins`,
    raw: evaluation.raw,
    ...(evaluation.calibrated ? { calibrated: evaluation.calibrated } : {}),
  };
}

/** One line for the text report. */
export function calibrationLine({ raw, calibrated }: CalibrationEvaluation): string {
  const line = `calibration: entity-level ECE ${formatFixed(raw.ece, 4)} (raw scores, ${raw.entities} predicted entities, ${ECE_BINS} equal-width bins)`;
  if (!calibrated) return line + "\n";
  const what = calibrated.method === "temperature" ? `temperature ${formatFixed(calibrated.temperature, 4)}` : "isotonic";
  return `${line}; ${formatFixed(calibrated.ece, 4)} calibrated (${what}, calibration.json)\n`;
}
