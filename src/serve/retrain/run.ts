// One retrain, start to end (issue 12 §3): the reviewed documents resolved and split
// (review/retrain-documents.ts), the training files written (training-files.ts), the serving
// version fine-tuned by a child `nerkit train` into a folder the registry reserved
// (trainer-process.ts), candidate and serving judged on the gold set and the candidate calibrated
// (judge.ts), the candidate recorded with its gate record, and promoted when the gate says so.
// The serving version is only read until the very end: a failure anywhere (the trainer killed,
// bad data) leaves it serving, removes the half-made folder, and throws; the work folder beside
// it keeps the trainer's log. The files the candidate was trained on stay in its folder
// (retrain/reviewed.conll, retrain/holdout.conll), so every version traces back to its data.
// A promotion the registry refuses (E_MODEL_CALIBRATION: serve --target-precision and a calibration
// that lacks a target; or the version's status changed meanwhile) does not undo the retrain: the
// candidate stays a candidate with its gate record, and the outcome says why it was not promoted.
// A stopped retrain (the signal: cancelled, or its process closing) makes no candidate once it is
// seen, and promotes none: it is looked at after the trainer, before recording, and before promoting.
// What it leaves out: storing the retrain's progress (the caller's report does: service.ts).

import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NerkitError } from "../../errors.js";
import { readModelConfig } from "../../model/checkpoint/config.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import { GateThresholds } from "../../metrics/gate.js";
import { compareCodePoints } from "../../text/code-point-order.js";
import { labelTypes } from "../../train/calibration-fit.js";
import { GateRecord, ModelRegistry, ModelVersion, TrainingDataRecord } from "../models/registry.js";
import { ReviewedResult } from "../storage/repository.js";
import { retrainDocuments } from "../review/retrain-documents.js";
import { filesDigest, writeTrainingFiles } from "./training-files.js";
import { judgeCandidate } from "./judge.js";
import { runTrainer } from "./trainer-process.js";

export interface RetrainSettings extends GateThresholds {
  /** Share of reviewed documents held out (never trained on), in [0, 1]. */
  holdout: number;
  /** A gold file to judge on; without it, the held-out documents. */
  gold?: string;
  /** The original training data; without it, what the serving version records. */
  train?: readonly string[];
  /** More `nerkit train` options (--epochs, --lr, --max-steps, --batch-size, ...). */
  trainArgs?: readonly string[];
  threads?: number;
}

export const DEFAULT_RETRAIN: RetrainSettings = { holdout: 0.2, promoteMargin: 0.5, maxTypeDrop: 2 };

export type RetrainPhase = "preparing" | "training" | "evaluating" | "calibrating" | "recording";

export interface RetrainReport {
  /** Progress in [0, 1] and what is being done. */
  progress?(fraction: number, phase: RetrainPhase): void;
  /** A line for the retrain's log (the trainer's output, and the run's own). */
  log?(line: string): void;
  /** The trainer child's process id, once it runs. */
  trainerStarted?(pid: number): void;
  /** Asked just before promoting (the retrain may have been cancelled elsewhere since the signal was last looked at). */
  mayPromote?(): Promise<boolean>;
}

export interface RetrainOutcome {
  candidate: ModelVersion;
  gate: GateRecord;
  promoted: boolean;
  /** Why the gate's promotion was not made (the registry refused it); the candidate stays a candidate. */
  promotionRefused?: string;
}

function stopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NerkitError("E_RETRAIN", "the retrain was stopped (cancelled, or its server or worker is closing)");
}

/** Every reviewed result, page after page. */
export async function allReviewed(repository: { reviewedResultsPage(after: string | undefined, limit: number): Promise<{ results: ReviewedResult[]; next?: string }> }): Promise<ReviewedResult[]> {
  const all: ReviewedResult[] = [];
  let after: string | undefined;
  do {
    const page = await repository.reviewedResultsPage(after, 500);
    all.push(...page.results);
    after = page.next;
  } while (after !== undefined);
  return all;
}

/** The original training data of a version: its recorded files without the reviewed documents (the last file when it has any). */
export function originalTrainingFiles(record: TrainingDataRecord): string[] {
  return record.reviewedDocuments > 0 ? record.files.slice(0, -1) : [...record.files];
}

// Training is most of a retrain's time.
const SHARE = { preparing: 0.02, training: 0.85, evaluating: 0.9, calibrating: 0.97 } as const;

/**
 * Runs retrain `id`: fine-tunes the serving version on its original data plus the reviewed
 * documents, judges the candidate and records it in the registry (promoting it when the gate
 * says so). Throws NerkitError on anything that leaves no candidate; serving is then unchanged.
 */
export async function runRetrain(id: string, registry: ModelRegistry, reviewed: readonly ReviewedResult[], settings: RetrainSettings, report: RetrainReport = {}, signal?: AbortSignal): Promise<RetrainOutcome> {
  const log = (line: string) => report.log?.(line);
  const progress = (fraction: number, phase: RetrainPhase) => report.progress?.(fraction, phase);
  if (!(settings.holdout >= 0 && settings.holdout < 1)) throw new NerkitError("E_USAGE", `--holdout must be a share in [0, 1), got ${settings.holdout}`);
  progress(0, "preparing");
  const serving = await registry.serving();
  const original = settings.train ? [...settings.train] : serving.trainingData ? originalTrainingFiles(serving.trainingData) : undefined;
  if (!original || original.length === 0) {
    throw new NerkitError("E_USAGE", `the serving version ${serving.id} records no training data: give the original training data (--train FILE)`);
  }
  const labels = readModelConfig(join(serving.folder, "config.json")).labels;
  const documents = retrainDocuments(reviewed, { holdout: settings.holdout, types: labelTypes(labels) });
  for (const [type, count] of [...documents.unknownTypes].sort(([a], [b]) => compareCodePoints(a, b))) {
    log(`${count} reviewed document(s) name the type ${type}, which ${serving.id} does not predict: left out (a retrain keeps the model's labels; a new type needs a model trained with it: nerkit train)`);
  }
  log(`reviewed documents: ${documents.train.length} for training, ${documents.holdout.length} held out, ${documents.rejected} rejected`);
  if (documents.train.length === 0) throw new NerkitError("E_RETRAIN", `no reviewed document to train on (${documents.holdout.length} held out, ${documents.rejected} rejected)`);
  if (settings.gold === undefined && documents.holdout.length === 0) {
    throw new NerkitError("E_RETRAIN", "nothing to judge the candidate on: give a gold file (--gold), or a --holdout share that holds reviewed documents");
  }

  const { id: versionId, folder } = await registry.reserve();
  const work = join(dirname(folder), `.${basename(folder)}.retrain`);
  mkdirSync(work, { recursive: true });
  let candidate: ModelVersion;
  let gate: GateRecord;
  try {
    const files = writeTrainingFiles(work, original, documents, labels);
    log(`training on ${files.trainSentences} sentences (${original.join(", ")} and ${files.reviewedSentences} reviewed), from ${serving.id} (${serving.folder}) into ${versionId}`);
    progress(SHARE.preparing, "training");
    await runTrainer({
      model: serving.folder,
      train: files.train,
      out: folder,
      args: [...(settings.trainArgs ?? []), ...(settings.threads ? ["--threads", String(settings.threads)] : [])],
      log: join(work, "trainer.log"),
      onLine: log,
      onProgress: (step, steps) => progress(SHARE.preparing + (SHARE.training - SHARE.preparing) * (step / steps), "training"),
      onStart: (pid) => {
        log(`trainer started: process ${pid}`);
        report.trainerStarted?.(pid);
      },
      signal,
    });
    stopped(signal);
    // The data the candidate learnt from goes into its folder, where its record points.
    const kept = join(folder, "retrain");
    mkdirSync(kept);
    renameSync(files.reviewed, join(kept, "reviewed.conll"));
    const holdout = files.holdout && join(kept, "holdout.conll");
    if (files.holdout) renameSync(files.holdout, holdout!);
    const gold = settings.gold !== undefined ? { source: "gold-file" as const, path: settings.gold } : { source: "holdout" as const, path: holdout! };
    const judgement = await judgeCandidate(
      {
        candidateFolder: folder,
        serving,
        gold,
        calibrationData: holdout ?? settings.gold!,
        calibrationMethod: readModelCalibration(serving.folder)?.method ?? "temperature",
        thresholds: { promoteMargin: settings.promoteMargin, maxTypeDrop: settings.maxTypeDrop },
        threads: settings.threads,
      },
      (phase) => progress(SHARE[phase], phase),
    );
    if (judgement.notCalibrated) log(`the candidate could not be calibrated: ${judgement.notCalibrated}`);
    log(judgement.gate.reason);
    progress(0.99, "recording");
    stopped(signal);
    const trainingFiles = [...original, join(kept, "reviewed.conll")];
    gate = judgement.gate;
    candidate = await registry.addCandidate({
      id: versionId,
      parent: serving.id,
      madeBy: `retrain ${id} (${files.reviewedSentences} reviewed documents)`,
      folder,
      trainingData: { files: trainingFiles, sha256: filesDigest(trainingFiles), reviewedDocuments: files.reviewedSentences },
      gate: judgement.gate,
      calibration: judgement.calibration,
    });
  } catch (error) {
    // The half-made version goes; the work folder keeps the trainer's log, the training file aside.
    rmSync(folder, { recursive: true, force: true });
    if (existsSync(join(work, "train.conll"))) rmSync(join(work, "train.conll"), { force: true });
    throw error;
  }
  rmSync(work, { recursive: true, force: true });
  // Recorded first, so that a promotion that fails leaves the candidate for a person to promote.
  if (gate.decision !== "promote") return { candidate, gate, promoted: false };
  if (signal?.aborted || (report.mayPromote && !(await report.mayPromote()))) {
    return { candidate, gate, promoted: false, promotionRefused: "the retrain was stopped before its candidate was promoted" };
  }
  try {
    candidate = await registry.promote(versionId);
  } catch (error) {
    // A refusal the registry explains (a NerkitError); anything else is a fault, and fails the retrain.
    if (!(error instanceof NerkitError)) throw error;
    const refused = `the gate would promote ${versionId}, but the promotion was refused (${error.code}): ${error.describe()}`;
    log(refused);
    return { candidate, gate, promoted: false, promotionRefused: refused };
  }
  return { candidate, gate, promoted: true };
}
