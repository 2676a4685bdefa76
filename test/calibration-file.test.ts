// calibration.json's one definition (src/metrics/calibration-file.ts): a written file reads back as
// written (Maps keyed by entity type, "__proto__" included), every malformed field is an E_FORMAT
// error naming the file and that field, and the isotonic map interpolates and clamps as a hand
// computation says (sklearn's IsotonicRegression.predict with out_of_bounds="clip" does the same).

import { test } from "node:test";
import assert from "node:assert/strict";
import { NerkitError } from "../src/errors.js";
import { CalibrationFile, applyIsotonic, calibratedScore, calibrationJson, parseCalibration } from "../src/metrics/calibration-file.js";
import { isotonicCalibration, temperatureCalibration } from "./calibration-cases.js";
import { nerkitError } from "./helpers.js";

const FILE = "model/calibration.json";

function withThresholds(c: CalibrationFile): CalibrationFile {
  const t = { target: 0.95, confidence: 0.95, threshold: 0.9, lowerBound: 0.951, accepted: 80, correct: 79, heldOut: 100, autoAcceptRate: 0.8 };
  return { ...c, thresholds: new Map([["PER", [t, { ...t, target: 0.99, threshold: null, lowerBound: null, accepted: 0, correct: 0, autoAcceptRate: 0 }]]]) };
}

const isotonic = () =>
  withThresholds(
    isotonicCalibration(
      new Map([
        ["PER", { x: [0.2, 0.5, 0.9], y: [0.1, 0.4, 0.6] }],
        ["__proto__", { x: [0.5], y: [0.7] }],
        ["*", { x: [0, 1], y: [0, 1] }],
      ]),
    ),
  );

/** The file as JSON text and parsed back, as a model folder holds it. */
const roundTrip = (c: CalibrationFile) => parseCalibration(JSON.parse(JSON.stringify(calibrationJson(c))), FILE);

test("a calibration reads back as written: temperature, and isotonic with thresholds and a type named __proto__", () => {
  const temperature = temperatureCalibration(1.7);
  assert.deepEqual(roundTrip(temperature), { ...temperature, isotonic: undefined, thresholds: undefined });
  const written = { ...isotonic(), weights: `sha256:${"0a".repeat(32)}` };
  const read = roundTrip(written);
  assert.deepEqual(read, written);
  assert.deepEqual([...read.isotonic!.keys()], ["PER", "__proto__", "*"]);
  assert.deepEqual(read.isotonic!.get("__proto__"), { x: [0.5], y: [0.7] });
  assert.equal(read.thresholds!.get("PER")![1].threshold, null);
});

test("a type named __proto__ gets its own map, not '*'", () => {
  const c = roundTrip(isotonic());
  assert.equal(calibratedScore(c, "__proto__", 0.1), 0.7);
  assert.equal(calibratedScore(c, "constructor", 0.3), 0.3, "a type without a map takes '*' (the identity here)");
});

test("applyIsotonic: linear between breakpoints, clamped outside, exact at them (by hand)", () => {
  const map = { x: [0.2, 0.5, 0.9], y: [0.1, 0.4, 0.6] };
  const cases: [number, number][] = [
    [0, 0.1], // below the first breakpoint: its value
    [0.2, 0.1],
    [0.35, 0.25], // 0.1 + (0.4 - 0.1) * (0.15 / 0.3)
    [0.5, 0.4],
    [0.7, 0.5], // 0.4 + (0.6 - 0.4) * (0.2 / 0.4)
    [0.9, 0.6],
    [1, 0.6], // above the last: its value
  ];
  for (const [raw, want] of cases) assert.ok(Math.abs(applyIsotonic(map, raw) - want) < 1e-15, `${raw} -> ${applyIsotonic(map, raw)}, expected ${want}`);
  assert.equal(applyIsotonic({ x: [0.5], y: [0.7] }, 0.1), 0.7, "one breakpoint: a constant");
  assert.equal(applyIsotonic({ x: [0.5], y: [0.7] }, 0.9), 0.7);
});

test("applyIsotonic's binary search agrees with a plain scan on a map of 1,000 breakpoints", () => {
  const x = Array.from({ length: 1000 }, (_, i) => i / 1000 + (i % 7) * 1e-5);
  const y = x.map((v) => Math.min(1, v * v + 0.01));
  const scan = (raw: number) => {
    if (raw <= x[0]) return y[0];
    if (raw >= x[x.length - 1]) return y[y.length - 1];
    const i = x.findIndex((v) => v > raw) - 1;
    return y[i] + ((y[i + 1] - y[i]) * (raw - x[i])) / (x[i + 1] - x[i]);
  };
  for (let k = 0; k <= 2000; k++) {
    const raw = k / 2000 - 0.0001;
    assert.equal(applyIsotonic({ x, y }, raw), scan(raw), String(raw));
  }
});

test("calibratedScore: the raw score unchanged under temperature scaling (the pipeline applies T to the logits)", () => {
  assert.equal(calibratedScore(temperatureCalibration(2), "PER", 0.4321), 0.4321);
});

/** Each row: how the written JSON is spoilt, and the field the error must name. */
const BAD: [string, (json: Record<string, any>) => void, string][] = [
  ["not an object", (j) => Object.keys(j).forEach((k) => delete j[k]), "version"],
  ["another version", (j) => (j.version = 2), "version"],
  ["an unknown method", (j) => (j.method = "platt"), "method"],
  ["temperature 0", (j) => (j.temperature = 0), "temperature"],
  ["temperature a string", (j) => (j.temperature = "1.5"), "temperature"],
  ["no '*' map", (j) => delete j.isotonic["*"], "isotonic"],
  ["isotonic not an object", (j) => (j.isotonic = [1, 2]), "isotonic"],
  ["x and y of different lengths", (j) => j.isotonic.PER.y.pop(), "isotonic.PER"],
  ["x not increasing", (j) => (j.isotonic.PER.x[1] = 0.2), "isotonic.PER.x[1]"],
  ["y decreasing", (j) => (j.isotonic.PER.y[2] = 0.3), "isotonic.PER.y[2]"],
  ["y above 1", (j) => (j.isotonic.PER.y[0] = 1.5), "isotonic.PER.y[0]"],
  ["a count missing", (j) => delete j.counts.PER.correct, "counts.PER.correct"],
  ["ECE above 1", (j) => (j.before.ece = 2), "before.ece"],
  ["brier missing", (j) => delete j.after.brier, "after.brier"],
  ["sentences negative", (j) => (j.data.sentences = -1), "data.sentences"],
  ["thresholds not a list", (j) => (j.thresholds.PER = {}), "thresholds.PER"],
  ["a target above 1", (j) => (j.thresholds.PER[0].target = 95), "thresholds.PER[0].target"],
  ["a threshold a string", (j) => (j.thresholds.PER[1].threshold = "none"), "thresholds.PER[1].threshold"],
  ["weights not a digest", (j) => (j.weights = "abc"), "weights"],
  ["weights a digest in capitals", (j) => (j.weights = `sha256:${"AB".repeat(32)}`), "weights"],
];

for (const [what, spoil, field] of BAD) {
  test(`a bad calibration.json names the field: ${what} -> ${field}`, () => {
    const json = JSON.parse(JSON.stringify(calibrationJson(isotonic())));
    spoil(json);
    const error = nerkitError(() => parseCalibration(json, FILE), "E_FORMAT");
    assert.equal(error.file, FILE);
    assert.equal(error.field, field, error.describe());
    assert.ok(error.describe().startsWith(`${FILE}: ${field}: `), error.describe());
  });
}

test("a top level that is not an object names the file", () => {
  for (const json of [null, [], "calibration", 3]) {
    const error = nerkitError(() => parseCalibration(json, FILE), "E_FORMAT");
    assert.ok(error instanceof NerkitError && error.file === FILE && error.field === "(top level)", error.describe());
  }
});
