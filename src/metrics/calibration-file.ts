// calibration.json: what `nerkit calibrate` writes into a model folder and every command that loads
// the model applies. This module is the file's one definition: its shape, a reader that names the
// field at fault, and the isotonic map (a raw entity score → the probability that the entity is
// exactly right). Temperature scaling acts on logits, so the pipeline applies it where the
// probabilities are computed; fitting lives with the calibrate command, not here.

import { NerkitError } from "../errors.js";

export const CALIBRATION_FILE = "calibration.json";
export const CALIBRATION_VERSION = 1;

export type CalibrationMethod = "temperature" | "isotonic";
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ["temperature", "isotonic"];

/** A non-decreasing step-free map: linear between breakpoints, clamped outside them (sklearn's out_of_bounds="clip"). */
export interface IsotonicMap {
  /** Raw scores, strictly increasing. */
  x: number[];
  /** Calibrated probabilities at x, non-decreasing, in [0, 1]. */
  y: number[];
}

/** Held-out entities of one type: predicted, and exactly right (same type and boundaries as a gold entity). */
export interface TypeCounts {
  predicted: number;
  correct: number;
  gold: number;
}

export interface CalibrationQuality {
  /** Expected calibration error at entity level, 15 equal-width bins. */
  ece: number;
  /** Mean negative log-likelihood of "the entity is exactly right". */
  nll: number;
  brier: number;
}

/** The accept threshold chosen for one type and one precision target (calibrate --target-precision). */
export interface PrecisionThreshold {
  target: number;
  /** One-sided confidence of the Clopper-Pearson lower bound (0.95 by default). */
  confidence: number;
  /** Accept at or above this calibrated score; null: the held-out data cannot show the target, nothing is auto-accepted. */
  threshold: number | null;
  /** The lower confidence bound of precision among held-out entities at or above the threshold. */
  lowerBound: number | null;
  /** Held-out entities at or above the threshold, and how many of them were right. */
  accepted: number;
  correct: number;
  /** Held-out entities of the type. */
  heldOut: number;
  /** accepted / heldOut: the share of this type's entities expected to be auto-accepted. */
  autoAcceptRate: number;
}

export interface CalibrationFile {
  version: number;
  method: CalibrationMethod;
  /** Logits are divided by this before the softmax (method "temperature"; 1 otherwise). */
  temperature: number;
  /** Method "isotonic": a map per entity type, and "*" for types with too few held-out entities. */
  isotonic?: Map<string, IsotonicMap>;
  /** The held-out data it was fitted on. */
  data: { path: string; sha256: string; sentences: number; entities: number };
  counts: Map<string, TypeCounts>;
  before: CalibrationQuality;
  after: CalibrationQuality;
  /** Per entity type, one record per precision target asked for. */
  thresholds?: Map<string, PrecisionThreshold[]>;
  /** The digest ("sha256:…") of the weights it was fitted on; loading refuses the file beside other weights. Absent in files written before it was recorded. */
  weights?: string;
  created: string;
}

function fail(file: string, field: string, message: string): never {
  throw new NerkitError("E_FORMAT", message, { file, field });
}

function finite(value: unknown, file: string, field: string, low = -Infinity, high = Infinity): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
    fail(file, field, `expected a number${low > -Infinity ? ` in [${low}, ${high}]` : ""}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(value: unknown, file: string, field: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(file, field, "expected an object");
  return value as Record<string, unknown>;
}

/** Entries of a JSON object keyed by entity type, as a Map (a type named "__proto__" stays a type). */
function typeEntries(value: unknown, file: string, field: string): Array<[string, unknown]> {
  return Object.entries(object(value, file, field));
}

function isotonicMap(value: unknown, file: string, field: string): IsotonicMap {
  const o = object(value, file, field);
  if (!Array.isArray(o.x) || !Array.isArray(o.y) || o.x.length !== o.y.length || o.x.length === 0) {
    fail(file, field, "expected x and y: arrays of equal, non-zero length");
  }
  const x = o.x.map((v, i) => finite(v, file, `${field}.x[${i}]`));
  const y = o.y.map((v, i) => finite(v, file, `${field}.y[${i}]`, 0, 1));
  for (let i = 1; i < x.length; i++) {
    if (!(x[i] > x[i - 1])) fail(file, `${field}.x[${i}]`, "x must be strictly increasing");
    if (y[i] < y[i - 1]) fail(file, `${field}.y[${i}]`, "y must not decrease");
  }
  return { x, y };
}

function quality(value: unknown, file: string, field: string): CalibrationQuality {
  const o = object(value, file, field);
  return { ece: finite(o.ece, file, `${field}.ece`, 0, 1), nll: finite(o.nll, file, `${field}.nll`, 0), brier: finite(o.brier, file, `${field}.brier`, 0, 1) };
}

function threshold(value: unknown, file: string, field: string): PrecisionThreshold {
  const o = object(value, file, field);
  const nullable = (v: unknown, f: string) => (v === null ? null : finite(v, file, f, 0, 1));
  return {
    target: finite(o.target, file, `${field}.target`, 0, 1),
    confidence: finite(o.confidence, file, `${field}.confidence`, 0, 1),
    threshold: nullable(o.threshold, `${field}.threshold`),
    lowerBound: nullable(o.lowerBound, `${field}.lowerBound`),
    accepted: finite(o.accepted, file, `${field}.accepted`, 0),
    correct: finite(o.correct, file, `${field}.correct`, 0),
    heldOut: finite(o.heldOut, file, `${field}.heldOut`, 0),
    autoAcceptRate: finite(o.autoAcceptRate, file, `${field}.autoAcceptRate`, 0, 1),
  };
}

/** Reads calibration.json's parsed JSON; `file` names it in errors. */
function weightsField(value: unknown, file: string): string {
  if (typeof value !== "string" || !/^sha256:[0-9a-f]{64}$/.test(value)) fail(file, "weights", `expected "sha256:" and 64 hex digits, got ${JSON.stringify(value)}`);
  return value;
}

export function parseCalibration(json: unknown, file: string): CalibrationFile {
  const o = object(json, file, "(top level)");
  if (o.version !== CALIBRATION_VERSION) fail(file, "version", `expected ${CALIBRATION_VERSION}, got ${JSON.stringify(o.version)} (written by another nerkit?)`);
  if (!CALIBRATION_METHODS.includes(o.method as CalibrationMethod)) fail(file, "method", `expected one of ${CALIBRATION_METHODS.join(", ")}`);
  const method = o.method as CalibrationMethod;
  const temperature = finite(o.temperature, file, "temperature", Number.MIN_VALUE);
  let isotonic: Map<string, IsotonicMap> | undefined;
  if (method === "isotonic") {
    isotonic = new Map(typeEntries(o.isotonic, file, "isotonic").map(([type, m]) => [type, isotonicMap(m, file, `isotonic.${type}`)]));
    if (!isotonic.has("*")) fail(file, "isotonic", 'needs a "*" map for types without their own');
  }
  const data = object(o.data, file, "data");
  const counts = new Map(
    typeEntries(o.counts, file, "counts").map(([type, c]) => {
      const co = object(c, file, `counts.${type}`);
      return [type, { predicted: finite(co.predicted, file, `counts.${type}.predicted`, 0), correct: finite(co.correct, file, `counts.${type}.correct`, 0), gold: finite(co.gold, file, `counts.${type}.gold`, 0) }];
    }),
  );
  const thresholds =
    o.thresholds === undefined
      ? undefined
      : new Map(
          typeEntries(o.thresholds, file, "thresholds").map(([type, list]) => {
            if (!Array.isArray(list)) fail(file, `thresholds.${type}`, "expected an array of thresholds");
            return [type, list.map((t, i) => threshold(t, file, `thresholds.${type}[${i}]`))];
          }),
        );
  return {
    version: CALIBRATION_VERSION,
    method,
    temperature,
    isotonic,
    data: {
      path: String(data.path ?? ""),
      sha256: String(data.sha256 ?? ""),
      sentences: finite(data.sentences, file, "data.sentences", 0),
      entities: finite(data.entities, file, "data.entities", 0),
    },
    counts,
    before: quality(o.before, file, "before"),
    after: quality(o.after, file, "after"),
    thresholds,
    ...(o.weights === undefined ? {} : { weights: weightsField(o.weights, file) }),
    created: String(o.created ?? ""),
  };
}

/** A calibration.json's text (already decoded) as a CalibrationFile; bad JSON is an E_FORMAT error naming `file`. */
export function parseCalibrationText(text: string, file: string): CalibrationFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NerkitError("E_FORMAT", `invalid JSON: ${(error as Error).message}`, { file });
  }
  return parseCalibration(json, file);
}

/** The JSON form of a calibration (Maps as objects), for writing. */
export function calibrationJson(calibration: CalibrationFile): Record<string, unknown> {
  const fromMap = <V>(map: Map<string, V> | undefined) => (map === undefined ? undefined : Object.fromEntries(map));
  return {
    version: calibration.version,
    method: calibration.method,
    temperature: calibration.temperature,
    isotonic: fromMap(calibration.isotonic),
    data: calibration.data,
    counts: fromMap(calibration.counts),
    before: calibration.before,
    after: calibration.after,
    thresholds: fromMap(calibration.thresholds),
    weights: calibration.weights,
    created: calibration.created,
  };
}

/** The isotonic map applied to one raw score: linear between breakpoints, clamped outside. */
export function applyIsotonic(map: IsotonicMap, raw: number): number {
  const { x, y } = map;
  if (!(raw > x[0])) return y[0];
  const last = x.length - 1;
  if (raw >= x[last]) return y[last];
  // The last breakpoint not above raw (binary search: maps can have thousands of breakpoints).
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (x[mid] <= raw) low = mid;
    else high = mid;
  }
  return y[low] + ((y[high] - y[low]) * (raw - x[low])) / (x[high] - x[low]);
}

/** A type's calibrated score from its raw score: its own isotonic map, else "*"; the raw score under temperature scaling. */
export function calibratedScore(calibration: CalibrationFile, type: string, raw: number): number {
  if (calibration.method !== "isotonic") return raw;
  const map = calibration.isotonic!.get(type) ?? calibration.isotonic!.get("*")!;
  return applyIsotonic(map, raw);
}
