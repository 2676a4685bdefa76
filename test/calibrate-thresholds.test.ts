// The held-out data is the demo dev set with every other sentence labelled by the fixture model's
// own predictions (written by evaluate -o), so that about half its entities are right and a
// threshold can be shown: a random-weight model gets nothing right on real labels. nerkit calibrate --target-precision records, per type and target, the threshold that the
// threshold chooser (metrics/precision-thresholds.ts, tested on its own) picks from the held-out
// entities' calibrated scores, and serve --target-precision accepts the file it wrote; calibrate
// also writes the drift reference profile on the held-out texts unless --no-profile.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPipeline } from "../src/infer/pipeline.js";
import { heldOutSamples } from "../src/train/calibration-fit.js";
import { readLabelledData } from "../src/train/evaluate-file.js";
import { CALIBRATION_FILE, parseCalibration } from "../src/metrics/calibration-file.js";
import { calibratedOutcomesByType } from "../src/metrics/calibration/apply.js";
import { addPrecisionTarget, chooseThreshold } from "../src/metrics/precision-thresholds.js";
import { targetThresholds } from "../src/serve/precision-routing.js";
import { readModelCalibration } from "../src/model/checkpoint/calibration.js";
import { REFERENCE_PROFILE_FILE } from "../src/metrics/reference-profile.js";
import { nerkit, repoRoot, tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";

const demoDev = join(repoRoot, "examples", "demo", "dev.conll");
const fixture = tinyModelDir("bert");

test("calibrate --target-precision records the chosen thresholds per type; serve's reader accepts them; the reference profile is written", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "calibrated");
  const predictions = join(dir, "predicted.conll");
  const predicted = nerkit(["evaluate", "--model", fixture, "--data", demoDev, "-o", predictions, "--threads", "1"]);
  assert.equal(predicted.code, 0, predicted.stderr);
  const blocks = (file: string) => readFileSync(file, "utf8").trimEnd().split(/\n\s*\n/);
  const [gold, own] = [blocks(demoDev), blocks(predictions)];
  assert.equal(own.length, gold.length);
  const dev = join(dir, "half-predicted.conll");
  // evaluate -o writes token, gold tag, predicted tag: the predicted tag becomes the label.
  const relabelled = (block: string) => block.split("\n").map((line) => { const cells = line.split(/\s+/); return `${cells[0]} ${cells[cells.length - 1]}`; }).join("\n");
  writeFileSync(dev, gold.map((block, i) => (i % 2 === 0 ? relabelled(own[i]) : block)).join("\n\n") + "\n");
  const run = nerkit(["calibrate", "--model", fixture, "--data", dev, "--out", out, "--threads", "1", "--target-precision", "0.02", "--target-precision", "PER=0.999", "--confidence", "0.9"]);
  assert.equal(run.code, 0, run.stderr);
  const calibration = parseCalibration(JSON.parse(readFileSync(join(out, CALIBRATION_FILE), "utf8")), "calibration.json");
  assert.ok(calibration.thresholds, "thresholds recorded");

  // The same choice, made here from the held-out entities' calibrated scores.
  const pipeline = await loadPipeline(fixture, { threads: 1 });
  let byType;
  try {
    const held = await heldOutSamples(pipeline, readLabelledData(dev), {});
    byType = calibratedOutcomesByType(held.samples, calibration);
  } finally {
    await pipeline.close();
  }
  assert.deepEqual([...calibration.thresholds.keys()].sort(), [...byType.keys()].sort());
  let accepting = 0;
  for (const [type, records] of calibration.thresholds) {
    const target = type === "PER" ? 0.999 : 0.02;
    assert.equal(records.length, 1, type);
    assert.deepEqual(records[0], chooseThreshold(byType.get(type)!, target, 0.9).record, type);
    if (records[0].threshold !== null) accepting++;
  }
  // Every entity is right: the low target is shown for some type, PER's 0.999 for none: both cases are exercised.
  assert.ok(accepting > 0, "some type gets an accept threshold");
  assert.equal(calibration.thresholds.get("PER")![0].threshold, null);
  assert.match(run.stderr, /warning: PER: .*no auto-accept/);
  assert.match(run.stdout, /accept thresholds for precision targets/);

  // serve --target-precision 0.02 --target-precision PER=0.999 --confidence 0.9 reads this file without complaint.
  const targets = addPrecisionTarget("PER=0.999", addPrecisionTarget("0.02"));
  const routing = targetThresholds(readModelCalibration(out), targets, 0.9, out);
  assert.ok(routing.length > 0);

  // The drift reference profile, on the held-out texts.
  const profile = JSON.parse(readFileSync(join(out, REFERENCE_PROFILE_FILE), "utf8"));
  assert.equal(profile.madeBy ?? profile.meta?.madeBy, "nerkit calibrate");
  assert.match(run.stderr, /reference profile for drift monitoring/);

  const bare = join(dir, "bare");
  const quiet = nerkit(["calibrate", "--model", fixture, "--data", dev, "--out", bare, "--threads", "1", "--no-profile"]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(existsSync(join(bare, REFERENCE_PROFILE_FILE)), existsSync(join(fixture, REFERENCE_PROFILE_FILE)), "--no-profile writes none (a copied one stays)");
  assert.equal(parseCalibration(JSON.parse(readFileSync(join(bare, CALIBRATION_FILE), "utf8")), "c").thresholds, undefined);
});
