// What a retrain does with a trained candidate before it may serve: both the candidate and the
// serving version tag the gold set (the word tagger and seqeval scores of `nerkit evaluate --model`:
// train/evaluate-file.ts), the gate compares them (metrics/gate.ts), and the candidate is calibrated
// on held-out data (train/calibration-fit.ts, what `nerkit calibrate` fits) into its folder's
// calibration.json, with the drift monitor's reference profile of the same texts beside it
// (reference-profile.json, as `nerkit calibrate` writes them). The models load in this process,
// one at a time: tagging runs in ONNX Runtime's threads, and a gold set is small next to training,
// which runs in a child (trainer-process.ts).
// The candidate's calibration records precision thresholds for the same types, targets and
// confidences as the serving version's calibration.json (thresholdsLike), so that a server routing
// on --target-precision can promote it (models/version-routing.ts refuses a version that lacks one).
// A candidate that cannot be calibrated (too few held-out entities) is never promoted automatically.
// What it leaves out: the registry (run.ts records and promotes).

import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { writeFileAtomic } from "../../io/files.js";
import { CALIBRATION_FILE, CalibrationMethod, calibrationJson } from "../../metrics/calibration-file.js";
import { GateScores, GateThresholds, gate, gateScores } from "../../metrics/gate.js";
import { loadPipeline, NerPipeline } from "../../infer/pipeline.js";
import { fileDigest, fitCalibration, heldOutSamples } from "../../train/calibration-fit.js";
import { thresholdsLike } from "../../metrics/precision-thresholds.js";
import { calibratedOutcomesByType } from "../../metrics/calibration/apply.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import { evaluateModelOnData, readLabelledData } from "../../train/evaluate-file.js";
import { GateRecord, ModelVersion } from "../models/registry.js";
import { readProfileTexts } from "../../data/profile-texts.js";
import { writeReferenceProfile } from "../drift/profile-writer.js";

export interface JudgeInput {
  candidateFolder: string;
  serving: Pick<ModelVersion, "id" | "folder">;
  gold: { source: GateRecord["gold"]["source"]; path: string };
  /** Held-out labelled data the candidate is calibrated on. */
  calibrationData: string;
  /** The serving version's method if it has one: the candidate serves as it did. */
  calibrationMethod: CalibrationMethod;
  thresholds: GateThresholds;
  threads?: number;
}

export interface Judgement {
  gate: GateRecord;
  calibration?: NonNullable<ModelVersion["calibration"]>;
  /** Why the candidate could not be calibrated, if it could not. */
  notCalibrated?: string;
}

async function withPipeline<T>(folder: string, threads: number | undefined, fn: (pipeline: NerPipeline) => Promise<T>): Promise<T> {
  const pipeline = await loadPipeline(folder, { threads });
  try {
    return await fn(pipeline);
  } finally {
    await pipeline.close();
  }
}

/** Scores candidate and serving on the gold set, calibrates the candidate, and records the gate's decision. */
export async function judgeCandidate(input: JudgeInput, onPhase: (phase: "evaluating" | "calibrating") => void = () => {}): Promise<Judgement> {
  const gold = readLabelledData(input.gold.path);
  onPhase("evaluating");
  const score = (folder: string): Promise<GateScores> => withPipeline(folder, input.threads, async (p) => gateScores((await evaluateModelOnData(p, gold)).evaluation.report));
  const serving = await score(input.serving.folder);
  let candidate: GateScores | undefined;
  let calibration: Judgement["calibration"];
  let notCalibrated: string | undefined;
  await withPipeline(input.candidateFolder, input.threads, async (pipeline) => {
    candidate = gateScores((await evaluateModelOnData(pipeline, gold)).evaluation.report);
    onPhase("calibrating");
    const data = input.calibrationData === input.gold.path ? gold : readLabelledData(input.calibrationData);
    try {
      const held = await heldOutSamples(pipeline, data);
      const fitted = fitCalibration({ held, method: input.calibrationMethod, data: { path: input.calibrationData, sha256: fileDigest(input.calibrationData), sentences: data.sentences.length } });
      const servingThresholds = readModelCalibration(input.serving.folder)?.thresholds;
      if (servingThresholds?.size) fitted.thresholds = thresholdsLike(servingThresholds, calibratedOutcomesByType(held.samples, fitted));
      writeFileAtomic(join(input.candidateFolder, CALIBRATION_FILE), JSON.stringify(calibrationJson(fitted), null, 2) + "\n");
      calibration = { method: fitted.method, created: fitted.created, entities: fitted.data.entities };
    } catch (error) {
      if (!(error instanceof NerkitError)) throw error;
      notCalibrated = error.message;
    }
    // The drift monitor's reference (as `nerkit calibrate` writes it): the held-out texts as the candidate reads them.
    const texts = readProfileTexts(input.calibrationData);
    await writeReferenceProfile(input.candidateFolder, pipeline, texts.texts, { madeBy: "nerkit retrain", path: input.calibrationData, sha256: texts.sha256, unit: texts.unit });
  });
  const verdict = gate(candidate!, serving, input.thresholds);
  const decision = notCalibrated ? "keep-candidate" : verdict.decision;
  const reason = !notCalibrated
    ? verdict.reason
    : verdict.decision === "promote"
      ? `kept as candidate: not calibrated (${notCalibrated}), though its scores pass the gate: ${verdict.reason.replace(/^promoted: /, "")}`
      : `${verdict.reason}; and not calibrated (${notCalibrated})`;
  return {
    gate: {
      decision,
      reason,
      gold: { source: input.gold.source, path: input.gold.path, documents: gold.sentences.length, sha256: fileDigest(input.gold.path) },
      candidate: candidate!,
      serving: { ...serving, version: input.serving.id },
      promoteMargin: input.thresholds.promoteMargin,
      maxTypeDrop: input.thresholds.maxTypeDrop,
    },
    calibration,
    notCalibrated,
  };
}
