// A distilled student is an ordinary checkpoint (issue 13 §1, last point): a student that `nerkit
// distill` made from the tiny BERT fixture is calibrated by `nerkit calibrate` (calibration.json,
// applied by predict), exported by `nerkit export` (fp32: predict on the export equals predict on
// the student; int8: the same entities as fp32, their scores within the bound that the export
// tests' logit tolerance implies, and the int8 graph's logits within 1% of the largest logit), and
// served by `nerkit serve` (POST /v1/entities answers the calibrated student's entities). Left out:
// what the student has learnt (bench/distill measures accuracy and speed on CoNLL-2003).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareQuantized } from "../src/model/export/compare.js";
import { nerkit, readJson, repoRoot, tempDir } from "./helpers.js";
import { spawnNerkit } from "./processes.js";
import { tinyModelDir } from "./model-cases.js";

const demo = join(repoRoot, "examples", "demo");

interface PredictedEntity {
  type: string;
  start: number;
  end: number;
  score: number;
  raw_score?: number;
}

/** The first n sentences of a CoNLL file as texts (words joined by spaces). */
function conllTexts(file: string, n: number): string[] {
  return readFileSync(file, "utf8")
    .split(/\n\s*\n/)
    .map((block) => block.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("-DOCSTART-")).map((l) => l.split(" ")[0]).join(" "))
    .filter((text) => text !== "")
    .slice(0, n);
}

function predict(model: string, texts: string[]): { entities: PredictedEntity[][]; stderr: string } {
  const run = nerkit(["predict", "--model", model, "--threads", "1"], texts.join("\n") + "\n");
  assert.equal(run.code, 0, run.stderr);
  return { entities: run.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { entities: PredictedEntity[] }).entities), stderr: run.stderr };
}

const span = (e: PredictedEntity) => `${e.type} ${e.start}-${e.end}`;

test("a distilled student calibrates, exports (fp32 and int8) with the student's entities, and is served", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // hidden 32 and 1 layer against the teacher's 32 and 2; lr and alpha high enough that 50 steps on
  // 20 sentences give peaked scores and a few dozen entities on the texts below (the teacher's own
  // scores are near uniform, about 0.13).
  const studentConfig = join(dir, "student.json");
  writeFileSync(studentConfig, JSON.stringify({ model_type: "bert", hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, type_vocab_size: 2, hidden_act: "gelu", initializer_range: 0.02, layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
  const student = join(dir, "student");
  const distilled = nerkit(["distill", "--teacher", tinyModelDir("bert"), "--student", studentConfig, "--train", join(demo, "gold.conll"), "--out", student, "--teacher-cache", join(dir, "cache"), "--epochs", "10", "--batch-size", "4", "--lr", "1e-2", "--alpha", "0.9", "--seed", "3", "--threads", "1"]);
  assert.equal(distilled.code, 0, distilled.stderr);

  const texts = conllTexts(join(demo, "dev.conll"), 20);
  const fp32 = predict(student, texts).entities;
  assert.ok(fp32.flat().length >= 20, `the student finds entities (${fp32.flat().length})`);

  // calibrate: a temperature fitted on held-out data, written into a copy, applied by predict.
  const calibrated = join(dir, "calibrated");
  const calibration = nerkit(["calibrate", "--model", student, "--data", join(demo, "dev.conll"), "--out", calibrated, "--threads", "1"]);
  assert.equal(calibration.code, 0, calibration.stderr);
  const fitted = readJson<{ method: string; temperature: number }>(join(calibrated, "calibration.json"));
  assert.equal(fitted.method, "temperature");
  assert.ok(fitted.temperature > 0 && Number.isFinite(fitted.temperature) && fitted.temperature !== 1, `temperature ${fitted.temperature}`);
  const withCalibration = predict(calibrated, texts);
  assert.match(withCalibration.stderr, /applying .*calibration\.json \(temperature/);
  assert.deepEqual(withCalibration.entities.flat().map((e) => e.raw_score), fp32.flat().map((e) => e.score), "raw scores are the student's");
  assert.ok(withCalibration.entities.flat().every((e) => e.score !== e.raw_score));

  // export, fp32: the export predicts exactly what the student does.
  const exportedFloat = join(dir, "export-fp32");
  assert.equal(nerkit(["export", "--model", student, "--out", exportedFloat]).code, 0);
  assert.deepEqual(predict(exportedFloat, texts).entities, fp32);

  // export, int8: the graph's logits within the export tests' 1% of the largest logit; predict on
  // the export runs int8 and finds the same entities. A logit moved by at most d moves a softmax
  // probability p by at most p·(e^(2d) − 1) (the log of the normaliser moves by at most d), so a
  // score (a mean of such probabilities) moves by at most e^(2d) − 1, with d that 1%.
  const exportedInt8 = join(dir, "export-int8");
  const quantized = nerkit(["export", "--model", student, "--out", exportedInt8, "--quantize", "int8"]);
  assert.equal(quantized.code, 0, quantized.stderr);
  const report = await compareQuantized(student, texts, { threads: 1 });
  assert.ok(report.maxAbsLogitDifference > 0 && report.maxAbsLogitDifference < 0.01 * report.maxAbsLogit, `max |difference| ${report.maxAbsLogitDifference}, largest logit ${report.maxAbsLogit}`);
  const int8 = predict(exportedInt8, texts);
  assert.match(int8.stderr, /is an int8 export .*running the int8 model/);
  assert.deepEqual(int8.entities.map((list) => list.map(span)), fp32.map((list) => list.map(span)));
  const bound = Math.exp(2 * 0.01 * report.maxAbsLogit) - 1;
  const scoreDifferences = int8.entities.flat().map((e, i) => Math.abs(e.score - fp32.flat()[i].score));
  assert.ok(Math.max(...scoreDifferences) > 0, "int8 scores differ from fp32 ones");
  assert.ok(Math.max(...scoreDifferences) <= bound, `score moved by ${Math.max(...scoreDifferences)}, bound ${bound}`);

  // serve: the calibrated student answers /v1/entities with predict's entities and scores.
  const serve = spawnNerkit(["serve", "--model", calibrated, "--port", "0", "--db", ":memory:", "--threads", "1", "--no-log"]);
  try {
    const [, url] = await serve.waitFor(/listening on (http:\/\/\S+)/, 30_000);
    const response = await fetch(`${url}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts }) });
    assert.equal(response.status, 200, await response.clone().text());
    const { documents } = (await response.json()) as { documents: { entities: PredictedEntity[] }[] };
    const shape = (e: PredictedEntity) => ({ type: e.type, start: e.start, end: e.end, score: e.score, raw_score: e.raw_score });
    assert.deepEqual(documents.map((d) => d.entities.map(shape)), withCalibration.entities.map((list) => list.map(shape)));
  } finally {
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0, serve.stderr());
  }
});
