// `nerkit calibrate`'s work: a model tags held-out labelled data (the word tagger of `evaluate
// --model`, with each word's logits kept), its predicted entities become samples (right or not,
// raw score, logits: ../infer/entity-samples.ts), and a calibration is fitted on them: one
// temperature (default) or an isotonic map per type (../metrics/calibration/). The result is the
// CalibrationFile that calibration.json holds, with the quality before and after on the same data.
// Left out: writing the file (the command does), thresholds (chosen from calibratedOutcomesByType).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { NerkitError } from "../errors.js";
import { conllevalChunks } from "../data/chunks.js";
import { compareCodePoints } from "../text/code-point-order.js";
import { CALIBRATION_VERSION, CalibrationFile, CalibrationMethod } from "../metrics/calibration-file.js";
import { calibratedSamples, outcomesByType } from "../metrics/calibration/apply.js";
import { EntitySample } from "../metrics/calibration/entity-sample.js";
import { fitIsotonicPerType } from "../metrics/calibration/isotonic.js";
import { calibrationQuality } from "../metrics/calibration/quality.js";
import { fitTemperature } from "../metrics/calibration/temperature.js";
import { HeldOutEntities, heldOutEntities } from "../infer/entity-samples.js";
import { NerPipeline } from "../infer/pipeline.js";
import { TagProgress, finishSteps } from "../infer/word-tagger.js";
import { LabelledData } from "./evaluate-file.js";

/** Predicted held-out entities below which calibrate refuses: an ECE over 15 bins, or a fitted map, from fewer says little. */
export const MIN_CALIBRATION_ENTITIES = 50;

export interface HeldOutOptions {
  batchSize?: number;
  maxLength?: number;
  onProgress?: (progress: TagProgress) => void;
}

/** The entity types a label set names (seqeval's default-mode reading of each label alone). */
export function labelTypes(labels: readonly string[]): Set<string> {
  return new Set(labels.flatMap((label) => conllevalChunks([label]).map((c) => c.type)));
}

/** Refuses a model whose labels name no entity type, and data with types the model cannot predict. */
export function checkTypesMatch(labels: readonly string[], data: LabelledData, model: string): void {
  const modelTypes = labelTypes(labels);
  if (modelTypes.size === 0) throw new NerkitError("E_FORMAT", `the model's labels (${labels.join(", ")}) name no entity type: nothing to calibrate`, { file: model });
  const dataTypes = labelTypes(data.sentences.flatMap((s) => s.tags));
  const missing = [...dataTypes].filter((t) => !modelTypes.has(t)).sort(compareCodePoints);
  if (missing.length > 0) {
    throw new NerkitError("E_MISMATCH", `entity types the model does not predict: ${missing.join(", ")} (the model's: ${[...modelTypes].sort(compareCodePoints).join(", ")}); calibrate on data labelled with the model's types`, { file: data.file });
  }
}

/** Tags the data's words with the model and returns its predicted entities as samples. */
export async function heldOutSamples(pipeline: NerPipeline, data: LabelledData, options: HeldOutOptions = {}): Promise<HeldOutEntities> {
  const sentences = data.sentences.map((s) => s.tokens);
  const tagged = await finishSteps(pipeline.tagWordsWithLogits(sentences, { batchSize: options.batchSize, maxLength: options.maxLength }), options.onProgress);
  return heldOutEntities(data.sentences.map((s) => s.tags), tagged.tags, tagged.logits);
}

/** The sha256 of a file's bytes, in hex. */
export function fileDigest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** A map keyed by type in code-point order (calibration.json lists types as evaluate does). */
function byCodePoints<V>(map: ReadonlyMap<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => compareCodePoints(a, b)));
}

/** Refuses held-out entities a calibration cannot be fitted on, naming the file. */
function checkEnough(samples: readonly EntitySample[], file: string): void {
  if (samples.length < MIN_CALIBRATION_ENTITIES) {
    throw new NerkitError("E_FORMAT", `the model predicts ${samples.length} entities in this data; calibration needs at least ${MIN_CALIBRATION_ENTITIES} (use a larger held-out set)`, { file });
  }
  const right = samples.filter((s) => s.correct).length;
  if (right === 0 || right === samples.length) {
    throw new NerkitError("E_FORMAT", `all ${samples.length} predicted entities are ${right === 0 ? "wrong" : "right"}: a calibration needs both right and wrong entities to learn from (is this the data the model was meant for?)`, { file });
  }
}

export interface FitCalibrationInput {
  held: HeldOutEntities;
  method: CalibrationMethod;
  data: { path: string; sha256: string; sentences: number };
  /** When it was made (ISO 8601); now by default. */
  created?: string;
  /** The digest of the weights the samples come from (../model/checkpoint/weights-digest.ts). */
  weights?: string;
}

/** Fits a calibration on held-out entities; before and after are measured on the same entities. */
export function fitCalibration({ held, method, data, created, weights }: FitCalibrationInput): CalibrationFile {
  const { samples } = held;
  checkEnough(samples, data.path);
  const raw = samples.map((s) => ({ score: s.rawScore, correct: s.correct }));
  const before = calibrationQuality(raw);
  const fitted: CalibrationFile = {
    version: CALIBRATION_VERSION,
    method,
    // Isotonic maps act on the raw score, so its logits are left as they are (T = 1).
    temperature: method === "temperature" ? fitTemperature(samples).temperature : 1,
    isotonic: method === "isotonic" ? fitIsotonicPerType(byCodePoints(outcomesByType(samples.map((s) => ({ type: s.type, score: s.rawScore, correct: s.correct }))))) : undefined,
    data: { ...data, entities: samples.length },
    counts: byCodePoints(held.counts),
    before,
    after: before, // replaced below, once the calibration can be applied
    weights,
    created: created ?? new Date().toISOString(),
  };
  return { ...fitted, after: calibrationQuality(calibratedSamples(samples, fitted)) };
}
