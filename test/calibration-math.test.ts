// Calibration's arithmetic against values computed independently: temperature scaling recovers a
// known temperature from synthetic logits whose entities are right with the tempered probability;
// isotonic regression on a small case worked by hand (pool-adjacent-violators below); ECE, NLL and
// Brier on a hand-computed case; the per-type isotonic maps fall back to "*" below the minimum.

import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom } from "../src/train/random.js";
import { fitTemperature, temperedScore, temperedWinner } from "../src/metrics/calibration/temperature.js";
import { ISOTONIC_MIN_ENTITIES, fitIsotonic, fitIsotonicPerType } from "../src/metrics/calibration/isotonic.js";
import { binOf, calibrationReport, negativeLogLikelihood } from "../src/metrics/calibration/quality.js";
import { applyIsotonic } from "../src/metrics/calibration-file.js";

/** n entities of 1-3 words over 5 labels; each is right with probability score_T0 (drawn with a seeded PRNG). */
function syntheticEntities(seed: number, n: number, trueTemperature: number) {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => {
    const logits = Array.from({ length: 1 + Math.floor(random.next() * 3) }, () => {
      const row = new Float32Array(5);
      for (let l = 0; l < 5; l++) row[l] = 2 * random.normal();
      row[Math.floor(random.next() * 5)] += 3 * random.next();
      return row;
    });
    return { logits, correct: random.next() < temperedScore(logits, trueTemperature) };
  });
}

test("temperedWinner is the softmax of logits / T at the argmax", () => {
  const logits = [1, 3, 2];
  const T = 2;
  const expected = Math.exp(3 / T) / (Math.exp(1 / T) + Math.exp(3 / T) + Math.exp(2 / T));
  assert.ok(Math.abs(temperedWinner(logits, T) - expected) < 1e-15);
  assert.ok(Math.abs(temperedScore([logits, [0, 0, 5]], 1) - (Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2)) + Math.exp(5) / (2 + Math.exp(5))) / 2) < 1e-15);
});

test("fitTemperature recovers a known temperature from entities drawn at that temperature", () => {
  // Sampling error measured over 30 seeds of 4,000 entities: T0 = 0.5 gave mean 0.5001, sd 0.015;
  // T0 = 2.5 gave mean 2.519, sd 0.065. The tolerance is 4 sd of the estimate.
  for (const [trueTemperature, tolerance] of [[0.5, 0.06], [2.5, 0.26]]) {
    const entities = syntheticEntities(7, 4000, trueTemperature);
    const fit = fitTemperature(entities);
    assert.ok(Math.abs(fit.temperature - trueTemperature) < tolerance, `T0 ${trueTemperature}: fitted ${fit.temperature}`);
    // The fit is the minimum: no temperature on a fine scan has a lower NLL.
    const nllAt = (T: number) => negativeLogLikelihood(entities.map((e) => ({ score: temperedScore(e.logits, T), correct: e.correct })));
    assert.ok(Math.abs(nllAt(fit.temperature) - fit.nll) < 1e-12);
    for (let k = -50; k <= 50; k++) {
      const T = fit.temperature * Math.exp(k * 0.004);
      assert.ok(nllAt(T) >= fit.nll - 1e-12, `NLL at ${T} is below the fitted one`);
    }
  }
});

test("fitIsotonic: pool-adjacent-violators on a case worked by hand", () => {
  const outcomes = [
    [0.1, 0], [0.2, 1], [0.3, 0], [0.3, 1], [0.3, 1], [0.5, 0], [0.6, 1], [0.8, 1],
  ].map(([score, right]) => ({ score, correct: right === 1 }));
  // By hand: the three entities at 0.3 are one point of weight 3 and mean 2/3.
  //   0.1 → 0;  0.2 → 1;  0.3 (2/3) is below 1: pool 0.2..0.3, weight 4, mean 3/4;
  //   0.5 → 0 is below 3/4: pool 0.2..0.5, weight 5, mean 3/5 (0 below it: fine);
  //   0.6 → 1, 0.8 → 1 (equal means are no violation).
  // Blocks [0.1]: 0, [0.2, 0.5]: 0.6, [0.6]: 1, [0.8]: 1 → breakpoints at each block's first and last score.
  // (sklearn 1.2 IsotonicRegression gives the same X_thresholds_ and y_thresholds_, and 0.8 at 0.55.)
  const map = fitIsotonic(outcomes);
  assert.deepEqual(map.x, [0.1, 0.2, 0.5, 0.6, 0.8]);
  assert.deepEqual(map.y, [0, 0.6, 0.6, 1, 1]);
  // Linear between breakpoints, clamped outside.
  assert.ok(Math.abs(applyIsotonic(map, 0.55) - 0.8) < 1e-12);
  assert.equal(applyIsotonic(map, 0.05), 0);
  assert.equal(applyIsotonic(map, 0.95), 1);
  // A flat run's inner points are dropped: 1,0 | 1,0 | 1,0 pool into three blocks of mean 0.5
  // (equal means are not pooled), six breakpoints of one value, of which only the ends are kept.
  const flat = fitIsotonic([[0.1, 1], [0.2, 0], [0.3, 1], [0.4, 0], [0.5, 1], [0.6, 0]].map(([score, right]) => ({ score, correct: right === 1 })));
  assert.deepEqual(flat, { x: [0.1, 0.6], y: [0.5, 0.5] });
});

test("fitIsotonicPerType: a type below the minimum has no map of its own and uses \"*\", fitted on all types", () => {
  const random = new SeededRandom(5);
  const draw = (n: number) => Array.from({ length: n }, () => {
    const score = random.next();
    return { score, correct: random.next() < score };
  });
  const byType = new Map([["PER", draw(ISOTONIC_MIN_ENTITIES)], ["__proto__", draw(ISOTONIC_MIN_ENTITIES - 1)]]);
  const maps = fitIsotonicPerType(byType);
  assert.deepEqual([...maps.keys()], ["PER", "*"]);
  assert.deepEqual(maps.get("PER"), fitIsotonic(byType.get("PER")!));
  assert.deepEqual(maps.get("*"), fitIsotonic([...byType.get("PER")!, ...byType.get("__proto__")!]));
});

test("ECE over 15 bins, NLL and Brier on a hand-computed case", () => {
  const outcomes = [
    [0.95, 1], [0.95, 0], [0.97, 1], [1, 1], // bin 14 (1 falls in the last bin): mean 0.9675, accuracy 0.75
    [0.5, 1], // bin 7 [0.467, 0.533): gap 0.5
    [0.2, 0], [0.21, 0], // bin 3 [0.2, 0.267): mean 0.205, accuracy 0
  ].map(([score, right]) => ({ score, correct: right === 1 }));
  const report = calibrationReport(outcomes);
  // (4 · 0.2175 + 1 · 0.5 + 2 · 0.205) / 7 = 1.78 / 7
  assert.ok(Math.abs(report.ece - 1.78 / 7) < 1e-12, String(report.ece));
  assert.equal(report.bins.length, 15);
  assert.deepEqual(report.bins.map((b) => b.count), [0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4]);
  assert.ok(Math.abs(report.bins[14].confidence! - 0.9675) < 1e-12);
  assert.equal(report.bins[14].accuracy, 0.75);
  assert.equal(report.bins[0].confidence, null);
  // The score 1 of a right entity is clipped to 1 - 1e-12 (a loss of 1e-12).
  const nll = -(Math.log(0.95) + Math.log(0.05) + Math.log(0.97) + Math.log(1 - 1e-12) + Math.log(0.5) + Math.log(0.8) + Math.log(0.79)) / 7;
  assert.ok(Math.abs(report.nll - nll) < 1e-12);
  assert.ok(Math.abs(report.brier - (0.05 ** 2 + 0.95 ** 2 + 0.03 ** 2 + 0 + 0.5 ** 2 + 0.2 ** 2 + 0.21 ** 2) / 7) < 1e-12);
  // Bin edges: b/15 opens bin b.
  assert.equal(binOf(0), 0);
  assert.equal(binOf(1 / 15 + 1e-12), 1);
  assert.equal(binOf(14 / 15), 14);
});
