// nerkit calibrate and the calibration part of evaluate --model, on a fixture model (bert-tiny,
// random weights) and the demo data: held-out entity scores equal the pipeline's "first"
// aggregation scores for the same words; calibrate writes a calibration.json that parses, whose
// counts are seqeval's and whose after-ECE is not above the before-ECE on the data it was fitted
// on, into the model folder or a copy of it; evaluate --model reports the same ECE before and after
// in JSON, draws the reliability diagrams in HTML and prints one ECE line; bad input is named.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Entity, loadPipeline } from "../src/infer/pipeline.js";
import { conllWords } from "../src/data/conll-columns.js";
import { checkTypesMatch, heldOutSamples, labelTypes } from "../src/train/calibration-fit.js";
import { readLabelledData } from "../src/train/evaluate-file.js";
import { CALIBRATION_FILE, parseCalibration } from "../src/metrics/calibration-file.js";
import { NerkitError } from "../src/errors.js";
import { weightsDigest } from "../src/model/checkpoint/weights-digest.js";
import { nerkit, nerkitError, readJson, repoRoot, tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";

const demo = join(repoRoot, "examples", "demo");
const dev = join(demo, "dev.conll");
const fixture = tinyModelDir("bert");

test("held-out entity scores are the pipeline's \"first\" aggregation scores for the same words", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Sentences whose CoNLL tokens are each one word to the pipeline's pre-tokenizer, joined by spaces.
  const simple = readFileSync(join(demo, "test.conll"), "utf8")
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== "" && !block.startsWith("-DOCSTART-"))
    .filter((block) => conllWords(block)[0].every((w) => /^(?:[A-Za-z]+|[0-9]+|[.,;:!?])$/.test(w)))
    .slice(0, 60);
  const file = join(dir, "simple.conll");
  writeFileSync(file, simple.join("\n\n") + "\n");
  const data = readLabelledData(file);
  const pipeline = await loadPipeline(fixture, { threads: 1 });
  try {
    const { samples } = await heldOutSamples(pipeline, data, { batchSize: 7 });
    const texts = data.sentences.map((s) => s.tokens.join(" "));
    const results = (await pipeline.run(texts, { aggregation: "first" })) as Entity[][];
    const expected = results.flatMap((entities, s) => entities.map((e) => ({ s, type: e.type, start: e.start, end: e.end, score: e.score })));
    const got = samples.map((sample) => {
      const words = data.sentences[sample.sentence].tokens;
      const start = words.slice(0, sample.start).join(" ").length + (sample.start > 0 ? 1 : 0);
      const end = words.slice(0, sample.end).join(" ").length;
      return { s: sample.sentence, type: sample.type, start, end, score: sample.rawScore };
    });
    assert.ok(expected.length >= 50, `${expected.length} entities`);
    assert.ok(expected.some((e) => e.end - e.start > 0 && texts[e.s].slice(e.start, e.end).includes(" ")), "some entities span several words");
    // Exactly equal: the same float32 softmax and float32 mean.
    assert.deepEqual(got, expected);
  } finally {
    await pipeline.close();
  }
});

test("calibrate --out writes a calibrated copy: calibration.json parses, counts are seqeval's, ECE after ≤ before; evaluate --model reports both", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "calibrated");
  const run = nerkit(["calibrate", "--model", fixture, "--data", dev, "--out", out, "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(!existsSync(join(fixture, CALIBRATION_FILE)), "the model folder itself is left alone with --out");
  assert.deepEqual(readFileSync(join(out, "model.safetensors")), readFileSync(join(fixture, "model.safetensors")));
  const file = join(out, CALIBRATION_FILE);
  const calibration = parseCalibration(readJson(file), file);
  assert.equal(calibration.method, "temperature");
  assert.equal(calibration.data.sha256, createHash("sha256").update(readFileSync(dev)).digest("hex"));
  assert.equal(calibration.data.sentences, 400);
  assert.ok(calibration.after.ece <= calibration.before.ece, `ECE ${calibration.before.ece} → ${calibration.after.ece}`);
  assert.ok(calibration.after.nll < calibration.before.nll, "the fit lowers the NLL it minimises");
  assert.match(run.stdout, /ECE \(15 equal-width bins\)\s+0\.\d{4}\s+0\.\d{4}/);
  assert.match(run.stdout, new RegExp(`T = ${calibration.temperature.toFixed(4)}`));
  // A random model's scores say nothing: T runs to the end of the range, and the user hears it.
  assert.match(run.stderr, /at the end of the searched range/);

  // The counts are seqeval's: evaluate --model's precision and support per type.
  const evaluated = nerkit(["evaluate", "--model", out, "--data", dev, "--format", "json", "--threads", "1"]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout);
  assert.deepEqual([...calibration.counts.keys()], Object.keys(report.types));
  let entities = 0;
  for (const [type, c] of calibration.counts) {
    assert.equal(c.gold, report.types[type].support, type);
    assert.equal(c.predicted === 0 ? 0 : c.correct / c.predicted, report.types[type].precision, type);
    entities += c.predicted;
  }
  assert.equal(calibration.data.entities, entities);
  // On the data it was fitted on, evaluate's raw and calibrated ECE are calibrate's before and after.
  assert.equal(report.calibration.binning, "15 equal-width bins");
  assert.equal(report.calibration.raw.entities, entities);
  assert.equal(report.calibration.raw.ece, calibration.before.ece);
  assert.equal(report.calibration.calibrated.method, "temperature");
  assert.ok(Math.abs(report.calibration.calibrated.ece - calibration.after.ece) < 1e-12);
  assert.equal(report.calibration.raw.bins.length, 15);
  assert.equal(report.calibration.raw.bins.reduce((n: number, b: { count: number }) => n + b.count, 0), entities);

  // Text: the seqeval table as without calibration, and one ECE line on stderr.
  const text = nerkit(["evaluate", "--model", out, "--data", dev, "--threads", "1"]);
  const plain = nerkit(["evaluate", "--model", fixture, "--data", dev, "--threads", "1"]);
  assert.equal(text.stdout, plain.stdout);
  assert.match(text.stderr, /calibration: entity-level ECE 0\.\d{4} \(raw scores, \d+ predicted entities, 15 equal-width bins\); 0\.\d{4} calibrated \(temperature/);
  assert.match(plain.stderr, /calibration: entity-level ECE 0\.\d{4} \(raw scores/);
  assert.doesNotMatch(plain.stderr, /calibrated/);

  // HTML: the calibration section with a reliability diagram for raw and calibrated scores.
  const html = nerkit(["evaluate", "--model", out, "--data", dev, "--format", "html", "--threads", "1"]);
  assert.equal(html.code, 0, html.stderr);
  assert.match(html.stdout, /<h2>Calibration<\/h2>/);
  assert.equal(html.stdout.match(/aria-label="reliability diagram/g)?.length, 2);
  const nonEmpty = report.calibration.raw.bins.filter((b: { count: number }) => b.count > 0);
  for (const bin of nonEmpty) assert.ok(html.stdout.includes(`${bin.count} entities, mean score ${bin.confidence.toFixed(3)}, accuracy ${bin.accuracy.toFixed(3)}`), JSON.stringify(bin));
});

test("calibrate --method isotonic writes into the model folder; maps per type or \"*\"; ECE after ≤ before", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "model");
  cpSync(fixture, model, { recursive: true });
  const run = nerkit(["calibrate", "--model", model, "--data", dev, "--method", "isotonic", "--format", "json", "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  const file = join(model, CALIBRATION_FILE);
  const printed = JSON.parse(run.stdout);
  assert.equal(printed.file, file);
  assert.deepEqual(printed.calibration, readJson(file));
  const calibration = parseCalibration(readJson(file), file);
  assert.equal(calibration.method, "isotonic");
  assert.equal(calibration.temperature, 1);
  for (const [type, c] of calibration.counts) assert.equal(calibration.isotonic!.has(type), c.predicted >= 50, type);
  assert.ok(calibration.after.ece <= calibration.before.ece);
  assert.equal(printed.reliability.before.length, 15);
  // Again: the file is replaced, and the user is told.
  const again = nerkit(["calibrate", "--model", model, "--data", dev, "--threads", "1"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /replacing .*calibration\.json/);
  assert.equal(parseCalibration(readJson(file), file).method, "temperature");
});

test("calibration.json records the weights' digest; beside other weights it is refused (predict, the library), --no-calibration and a new calibrate go on", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "model");
  cpSync(fixture, model, { recursive: true });
  const weightsFile = join(model, "model.safetensors");
  const digest = () => `sha256:${createHash("sha256").update(readFileSync(weightsFile)).digest("hex")}`;
  assert.equal(nerkit(["calibrate", "--model", model, "--data", dev, "--threads", "1"]).code, 0);
  const file = join(model, CALIBRATION_FILE);
  assert.equal(parseCalibration(readJson(file), file).weights, digest());
  assert.equal(weightsDigest(model), digest());
  const text = "Peter Blackburn visited Brussels.\n";
  assert.equal(nerkit(["predict", "--model", model, "--threads", "1"], text).code, 0);
  // Other weights in the folder (as train --resume leaves them): one byte of one tensor changed.
  const bytes = readFileSync(weightsFile);
  bytes[bytes.length - 1] ^= 0x01;
  writeFileSync(weightsFile, bytes);
  assert.equal(weightsDigest(model), digest(), "a rewritten file is hashed again in the same process");
  const stale = nerkit(["predict", "--model", model, "--threads", "1"], text);
  assert.equal(stale.code, 2);
  assert.match(stale.stderr, /calibration\.json: weights: fitted on other weights .* run `nerkit calibrate` again/);
  await assert.rejects(loadPipeline(model, { threads: 1 }), (e: NerkitError) => e.code === "E_MISMATCH" && e.field === "weights");
  assert.equal(nerkit(["predict", "--model", model, "--threads", "1", "--no-calibration"], text).code, 0);
  const again = nerkit(["calibrate", "--model", model, "--data", dev, "--threads", "1"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(parseCalibration(readJson(file), file).weights, digest());
  assert.equal(nerkit(["predict", "--model", model, "--threads", "1"], text).code, 0);
  // A file written before digests were recorded is not checked.
  const json = readJson(file) as Record<string, unknown>;
  delete json.weights;
  writeFileSync(file, JSON.stringify(json));
  bytes[bytes.length - 1] ^= 0x01;
  writeFileSync(weightsFile, bytes);
  assert.equal(nerkit(["predict", "--model", model, "--threads", "1"], text).code, 0);
});

test("calibrate: bad input is named", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const withDate = join(dir, "dates.conll");
  writeFileSync(withDate, readFileSync(dev, "utf8").replace("Graimunda B-LOC", "Graimunda B-DATE"));
  const few = join(dir, "few.conll");
  writeFileSync(few, "Peter B-PER\nvisited O\nBrussels B-LOC\n");
  const full = join(dir, "full");
  mkdirSync(full);
  writeFileSync(join(full, "x"), "");
  const cases: [string[], RegExp][] = [
    [["--data", withDate], /dates\.conll: entity types the model does not predict: DATE \(the model's: LOC, MISC, ORG, PER\)/],
    [["--data", few], /few\.conll: the model predicts \d+ entities in this data; calibration needs at least 50/],
    [["--data", dev, "--out", full], /full: --out must be a new \(or empty\) folder/],
    [["--data", dev, "--method", "platt"], /--method must be one of temperature, isotonic/],
    [["--data", join(dir, "missing.conll")], /missing\.conll: cannot read: no such file/],
  ];
  for (const [args, message] of cases) {
    const run = nerkit(["calibrate", "--model", fixture, "--threads", "1", ...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  }
  const notFolder = nerkit(["calibrate", "--model", dev, "--data", dev]);
  assert.equal(notFolder.code, 2);
  assert.match(notFolder.stderr, /--model must be a model folder/);
  assert.ok(!existsSync(join(fixture, CALIBRATION_FILE)));
});

test("checkTypesMatch: a model whose labels name no entity type is refused, with its labels named", () => {
  const data = readLabelledData(dev);
  assert.deepEqual([...labelTypes(["O", "B-PER", "I-PER", "S-LOC", "E-LOC"])].sort(), ["LOC", "PER"]);
  const error = nerkitError(() => checkTypesMatch(["O"], data, "some-model"), "E_FORMAT");
  assert.equal(error.describe(), "some-model: the model's labels (O) name no entity type: nothing to calibrate");
  checkTypesMatch(["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"], data, "some-model");
});
