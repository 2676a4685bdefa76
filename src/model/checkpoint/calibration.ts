// A model folder's calibration.json (../../metrics/calibration-file.ts defines it; `nerkit calibrate`
// writes it), read when the model is loaded for inference: absent is no calibration; present, it
// must parse, and a file that does not (bad JSON, a missing or out-of-range field) is an E_FORMAT
// error naming the file and the field, never silently ignored: a model that routes on raw scores
// while its owner believes them calibrated would break the precision its thresholds promise.
// A file that records the weights it was fitted on (calibrate writes their digest) is refused beside
// other weights, for the same reason: `train --resume` into a calibrated folder, or weights copied
// over, leave a calibration that describes a model no longer there.
// What it leaves out: applying the calibration (the pipeline's, ../../infer/calibrated-scores.ts).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { decodeUtf8, ioReason } from "../../io/files.js";
import { CALIBRATION_FILE, CalibrationFile, parseCalibrationText } from "../../metrics/calibration-file.js";
import { weightsDigest } from "./weights-digest.js";

/** The path of calibration.json in a model folder. */
export function calibrationPath(dir: string): string {
  return join(dir, CALIBRATION_FILE);
}

/** The calibration stored with the model in `dir`, or undefined when the folder has none. */
export function readModelCalibration(dir: string): CalibrationFile | undefined {
  const file = calibrationPath(dir);
  if (!existsSync(file)) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new NerkitError("E_IO", `cannot read: ${ioReason(error)}`, { file });
  }
  const calibration = parseCalibrationText(decodeUtf8(bytes, file), file);
  checkWeights(calibration, dir, file);
  return calibration;
}

/** Refuses a calibration fitted on other weights than the folder holds (a folder without weights is not checked). */
function checkWeights(calibration: CalibrationFile, dir: string, file: string): void {
  if (calibration.weights === undefined) return;
  const now = weightsDigest(dir);
  if (now === undefined || now === calibration.weights) return;
  throw new NerkitError(
    "E_MISMATCH",
    `fitted on other weights (${calibration.weights.slice(0, 19)}…) than the folder holds now (${now.slice(0, 19)}…): run \`nerkit calibrate\` again, or delete the file (or pass --no-calibration) to use raw scores`,
    { file, field: "weights" },
  );
}
