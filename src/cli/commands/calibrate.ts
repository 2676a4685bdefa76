// nerkit calibrate: fits, on labelled data the model did not train on, a map from an entity's raw
// score to the probability that the entity is exactly right (../../train/calibration-fit.ts), and
// writes it as calibration.json into the model folder (or, with --out, into a new folder holding a
// copy of the model's files). Prints the quality before and after and the counts per type. With
// --target-precision it also records, per type, the accept threshold whose precision the held-out
// entities show at the asked confidence (../../metrics/precision-thresholds.ts), for
// `serve --target-precision`; and it writes the drift reference profile (reference-profile.json)
// on the same texts, so that serve compares production with the data the scores were fitted on.
// The thresholds are chosen on the calibrated scores of the data the calibration was fitted on:
// both maps are monotone within a type (isotonic by construction; a temperature keeps the order of
// one-word entities), so the sets a threshold can select are the raw scores' own and the
// fixed-sequence guarantee of the choice is not spent on the fit.

import { Command } from "commander";
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { NerkitError } from "../../errors.js";
import { isDirectory, writeFileAtomic, ioReason } from "../../io/files.js";
import { CALIBRATION_FILE, CALIBRATION_METHODS, CalibrationFile, CalibrationMethod, calibrationJson } from "../../metrics/calibration-file.js";
import { calibratedSamples } from "../../metrics/calibration/apply.js";
import { calibrationReport } from "../../metrics/calibration/quality.js";
import { calibrationSummary } from "../../metrics/calibration/summary.js";
import { TEMPERATURE_RANGE } from "../../metrics/calibration/temperature.js";
import { loadPipeline } from "../../infer/pipeline.js";
import { weightsDigest } from "../../model/checkpoint/weights-digest.js";
import { checkTypesMatch, fileDigest, fitCalibration, heldOutSamples } from "../../train/calibration-fit.js";
import { readLabelledData } from "../../train/evaluate-file.js";
import { ProgressBar } from "../progress-bar.js";
import { CommandIO } from "../io.js";
import { integer, oneOf, probability } from "../options.js";
import { DEFAULT_CONFIDENCE, PrecisionTargets, addPrecisionTarget, chooseThresholds, noTargets } from "../../metrics/precision-thresholds.js";
import { calibratedOutcomesByType } from "../../metrics/calibration/apply.js";
import { readProfileTexts } from "../../data/profile-texts.js";
import { writeReferenceProfile } from "../../serve/drift/profile-writer.js";

interface CalibrateCommandOptions {
  model: string;
  data: string;
  method: CalibrationMethod;
  out?: string;
  batchSize: number;
  maxLength?: number;
  threads?: number;
  format: "text" | "json";
  targetPrecision: PrecisionTargets;
  confidence: number;
  profile: boolean;
}


/** Refuses a --out that would overwrite something: it must not exist, or be an empty folder. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!isDirectory(out) || readdirSync(out).length > 0) throw new NerkitError("E_USAGE", "--out must be a new (or empty) folder: it receives a copy of the model with calibration.json", { file: out });
}

/** Writes calibration.json into the model folder, or into a copy of it at `out`; returns the file written. */
function writeCalibration(calibration: CalibrationFile, model: string, out: string | undefined): string {
  const content = JSON.stringify(calibrationJson(calibration), null, 2) + "\n";
  if (out === undefined) {
    const file = join(model, CALIBRATION_FILE);
    writeFileAtomic(file, content);
    return file;
  }
  // The copy is made under a temporary name beside --out and renamed when complete: a failure leaves no half-made model.
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    cpSync(model, temp, { recursive: true });
    writeFileAtomic(join(temp, CALIBRATION_FILE), content);
    if (existsSync(out)) rmSync(out, { recursive: true }); // checked empty before the run
    renameSync(temp, out);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof NerkitError) throw error;
    throw new NerkitError("E_IO", `cannot write the calibrated copy of the model: ${ioReason(error)}`, { file: out });
  }
  return join(out, CALIBRATION_FILE);
}

export function calibrateCommand(io: CommandIO): Command {
  return new Command("calibrate")
    .description("fit, on held-out labelled data, a map from an entity's raw score to the probability that it is exactly right, and write calibration.json into the model folder (applied by every command that loads the model)")
    .requiredOption("--model <dir>", "model folder (checkpoint or nerkit train output); calibration.json is written into it unless --out is given")
    .requiredOption("--data <file>", "held-out labelled data the model did not train on, in any format train reads (CoNLL, JSONL spans, doccano, Label Studio)")
    .option("--method <method>", "temperature (one scalar dividing the logits, fitted by minimising the entity-level NLL) or isotonic (a monotone map per entity type)", oneOf("--method", CALIBRATION_METHODS), "temperature")
    .option("--out <dir>", "write a copy of the model with calibration.json into this new folder instead of changing the model folder")
    .option("--batch-size <n>", "windows per model run (sorted by length, padded per batch)", integer("--batch-size"), 32)
    .option("--max-length <n>", "tokens per window, special tokens included (default: what the model reads)", integer("--max-length"))
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .option("--target-precision <x>", "also choose, per type, the lowest accept threshold whose precision on the held-out data is at least x at --confidence (Clopper-Pearson lower bound, fixed-sequence scan): 0.95 for every type, PER=0.97 for one; repeatable. serve --target-precision routes with them", addPrecisionTarget, noTargets())
    .option("--confidence <x>", "one-sided confidence of the precision bound for --target-precision", probability("--confidence"), DEFAULT_CONFIDENCE)
    .option("--no-profile", "do not write the drift reference profile (reference-profile.json) on the held-out texts")
    .option("--format <format>", "text (a before/after table) or json (calibration.json's content with the reliability tables)", oneOf("--format", ["text", "json"] as const), "text")
    .action(async (options: CalibrateCommandOptions) => {
      if (options.batchSize < 1) throw new NerkitError("E_USAGE", "--batch-size must be at least 1");
      if (!isDirectory(options.model)) throw new NerkitError("E_USAGE", "--model must be a model folder: calibration.json is written beside its weights", { file: options.model });
      if (options.out !== undefined) checkOut(options.out);
      const data = readLabelledData(options.data);
      // The folder's own calibration.json plays no part (held-out samples use raw logits), and may be stale.
      const pipeline = await loadPipeline(options.model, { threads: options.threads, calibration: false });
      const bar = new ProgressBar(process.stderr, 20, "batch");
      const started = performance.now();
      let held;
      let calibration: CalibrationFile;
      let written: string;
      try {
        checkTypesMatch(pipeline.arch.labels, data, options.model);
        held = await heldOutSamples(pipeline, data, {
          batchSize: options.batchSize,
          maxLength: options.maxLength,
          onProgress: (p) => bar.update(p.batches, p.totalBatches, (performance.now() - started) / 1000, {}),
        });
        bar.break();
        calibration = fitCalibration({ held, method: options.method, data: { path: options.data, sha256: fileDigest(options.data), sentences: data.sentences.length }, weights: weightsDigest(options.model) });
        const T = calibration.temperature;
        if (options.method === "temperature" && (T <= TEMPERATURE_RANGE[0] * 1.0001 || T >= TEMPERATURE_RANGE[1] * 0.9999)) {
          io.stderr(`nerkit: warning: the fitted temperature ${T.toPrecision(4)} is at the end of the searched range [${TEMPERATURE_RANGE[0]}, ${TEMPERATURE_RANGE[1]}]: the model's scores say little about which entities are right (an untrained or mismatched model?)\n`);
        }
        if (options.targetPrecision.all.length > 0 || options.targetPrecision.perType.size > 0) {
          const chosen = chooseThresholds(calibratedOutcomesByType(held.samples, calibration), options.targetPrecision, options.confidence);
          calibration.thresholds = chosen.thresholds;
          for (const warning of chosen.warnings) io.stderr(`nerkit: warning: ${warning}\n`);
        }
        if (options.out === undefined && existsSync(join(options.model, CALIBRATION_FILE))) io.stderr(`nerkit: replacing ${join(options.model, CALIBRATION_FILE)}\n`);
        written = writeCalibration(calibration, options.model, options.out);
        if (options.profile) {
          // Raw scores are profiled (the calibration does not change them), read as serve reads texts.
          const texts = readProfileTexts(options.data);
          const { file, counts } = await writeReferenceProfile(dirname(written), pipeline, texts.texts, { madeBy: "nerkit calibrate", path: options.data, sha256: texts.sha256, unit: texts.unit });
          io.stderr(`nerkit: reference profile for drift monitoring: ${file} (${counts.documents} ${texts.unit})\n`);
        }
      } finally {
        bar.break();
        await pipeline.close();
      }
      if (options.format === "json") {
        const raw = held.samples.map((s) => ({ score: s.rawScore, correct: s.correct }));
        const reliability = { before: calibrationReport(raw).bins, after: calibrationReport(calibratedSamples(held.samples, calibration)).bins };
        io.stdout(JSON.stringify({ file: written, calibration: calibrationJson(calibration), reliability }, null, 2) + "\n");
      } else {
        io.stdout(calibrationSummary(calibration, written));
      }
    });
}
