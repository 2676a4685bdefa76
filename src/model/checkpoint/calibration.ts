// A model folder's calibration.json (../../metrics/calibration-file.ts defines it; `nerkit calibrate`
// writes it), read when the model is loaded for inference: absent is no calibration; present, it
// must parse, and a file that does not (bad JSON, a missing or out-of-range field) is an E_FORMAT
// error naming the file and the field, never silently ignored: a model that routes on raw scores
// while its owner believes them calibrated would break the precision its thresholds promise.
// What it leaves out: applying the calibration (the pipeline's, ../../infer/calibrated-scores.ts).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import { decodeUtf8, ioReason } from "../../io/files.js";
import { CALIBRATION_FILE, CalibrationFile, parseCalibrationText } from "../../metrics/calibration-file.js";

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
  return parseCalibrationText(decodeUtf8(bytes, file), file);
}
