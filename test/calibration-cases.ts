// Calibration files written by hand for the tests of how a model's calibration.json is applied: a
// fixture model copied with one beside it (calibratedModel), and the two kinds of calibration
// (temperature, isotonic) through calibrationJson, the contract's writer
// (src/metrics/calibration-file.ts). The before/after qualities and counts are placeholders: what
// is applied reads only the method, the temperature and the maps.

import { copyFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CALIBRATION_FILE, CALIBRATION_VERSION, CalibrationFile, IsotonicMap, calibrationJson } from "../src/metrics/calibration-file.js";
import { tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";

const quality = { ece: 0.1, nll: 0.5, brier: 0.2 };

function calibration(method: CalibrationFile["method"], temperature: number, isotonic?: Map<string, IsotonicMap>): CalibrationFile {
  return {
    version: CALIBRATION_VERSION,
    method,
    temperature,
    isotonic,
    data: { path: "dev.conll", sha256: "0".repeat(64), sentences: 10, entities: 20 },
    counts: new Map([["PER", { predicted: 10, correct: 8, gold: 9 }]]),
    before: quality,
    after: quality,
    created: "2026-12-03T12:00:00.000Z",
  };
}

export const temperatureCalibration = (temperature: number) => calibration("temperature", temperature);
export const isotonicCalibration = (maps: Map<string, IsotonicMap>) => calibration("isotonic", 1, maps);

/** Writes `json` (a calibration, or anything: bad files too) as calibration.json into `dir`. */
export function writeCalibration(dir: string, json: unknown): void {
  writeFileSync(join(dir, CALIBRATION_FILE), typeof json === "string" ? json : JSON.stringify(json, null, 2));
}

/** A copy of the `kind`-tiny fixture model (config, weights, tokenizer) in a temp folder, with `file` as its calibration.json. */
export function calibratedModel(kind: string, file: CalibrationFile | unknown, dir = tempDir("nerkit-calibrated-")): string {
  const source = tinyModelDir(kind);
  for (const name of readdirSync(source)) if (!name.startsWith("expected_")) copyFileSync(join(source, name), join(dir, name));
  writeCalibration(dir, isCalibration(file) ? calibrationJson(file) : file);
  return dir;
}

function isCalibration(value: unknown): value is CalibrationFile {
  return typeof value === "object" && value !== null && (value as CalibrationFile).counts instanceof Map;
}
