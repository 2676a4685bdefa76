// `nerkit distill` end to end on the tiny BERT fixture as teacher and a smaller random student:
// the output is an ordinary checkpoint with the teacher's labels that `nerkit predict` loads and
// `export --quantize int8` writes; the teacher's logits are computed once, cached, and reused by
// the next run (its file untouched); a run killed with SIGKILL and resumed ends with the
// parameters of an uninterrupted one. Also, in process: the cached values are the teacher's logits
// at the word starts (to binary16 rounding), and the cache key (which names the file) changes with
// the teacher's weights and with the data (examples or soft positions), so a changed teacher or
// data never reads old logits; clear errors for a student that cannot read the teacher's
// tokenizer and for labels the teacher lacks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { f16ToF32 } from "../src/model/checkpoint/dtypes.js";
import { TokenClassifierSession } from "../src/model/session.js";
import { loadTokenizer } from "../src/text/tokenizers/index.js";
import { Example, buildExamples } from "../src/train/examples.js";
import { readLabelledFile } from "../src/train/prepare.js";
import { attachTeacherLogits, teacherCacheKey } from "../src/train/distill/teacher-cache.js";
import { labelledPositions } from "../src/train/distill/soft-targets.js";
import { loadTeacher } from "../src/train/distill/prepare-distill.js";
import { nerkit, nerkitBin, readJson, repoRoot, tempDir } from "./helpers.js";
import { waitUntil } from "./processes.js";
import { maxSafetensorsDifference, tinyModelDir } from "./model-cases.js";

const teacherDir = tinyModelDir("bert");
const demo = join(repoRoot, "examples", "demo", "gold.conll");

/** A student smaller than the teacher (hidden 16, 1 layer; the teacher has 32 and 2), dropout on. */
function studentConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, "student.json");
  const config = { model_type: "bert", hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64, type_vocab_size: 2, hidden_act: "gelu", initializer_range: 0.02, layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, ...extra };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function newestCheckpoint(dir: string): number {
  const steps = readdirSync(dir).filter((f) => /^checkpoint-\d+$/.test(f) && existsSync(join(dir, f, "trainer_state.json"))).map((f) => Number(f.slice(11)));
  return Math.max(0, ...steps);
}

test("distill: a student checkpoint predict loads, the teacher's logits cached once and reused, SIGKILL then --resume gives the same parameters", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const texts = join(dir, "texts.txt");
  writeFileSync(texts, "Angela Merkel visited Paris on Monday .\nThe United Nations met in Geneva .\n");
  const cache = join(dir, "cache");
  // 20 labelled sentences and 2 unlabelled texts in batches of 4: 6 steps per epoch.
  const args = (out: string) => ["distill", "--teacher", teacherDir, "--student", studentConfig(dir), "--train", demo, "--unlabelled", texts, "--out", out, "--teacher-cache", cache, "--epochs", "3", "--batch-size", "4", "--lr", "1e-3", "--save-every", "1", "--seed", "3", "--threads", "1"];

  const whole = join(dir, "whole");
  const first = nerkit(args(whole));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /22 training examples \(2 of them unlabelled\)/);
  assert.match(first.stderr, /teacher logits computed and cached in .*\.f16 \((\d+) tokens\)/);
  const cached = readdirSync(cache).filter((f) => f.endsWith(".f16"));
  assert.equal(cached.length, 1);
  const cacheFile = join(cache, cached[0]);
  const tokens = Number(/\((\d+) tokens\)/.exec(first.stderr)![1]);
  assert.equal(statSync(cacheFile).size, tokens * 9 * 2, "binary16, 9 labels per word start");
  const written = statSync(cacheFile).mtimeMs;

  // The student is an ordinary checkpoint with the teacher's labels, in the teacher's order.
  const config = readJson<{ id2label: Record<string, string>; hidden_size: number }>(join(whole, "config.json"));
  assert.deepEqual(config.id2label, readJson<{ id2label: Record<string, string> }>(join(teacherDir, "config.json")).id2label);
  assert.equal(config.hidden_size, 16);
  const predicted = spawnSync(process.execPath, [nerkitBin, "predict", "--model", whole], { input: "Maria Lindqvist joined Nordhavn Logistics .\n", encoding: "utf8" });
  assert.equal(predicted.status, 0, predicted.stderr);
  assert.ok(Array.isArray(JSON.parse(predicted.stdout).entities));
  const exported = nerkit(["export", "--model", whole, "--out", join(dir, "exported"), "--quantize", "int8"]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(existsSync(join(dir, "exported", "onnx", "model_quantized.onnx")));

  // The same run killed after its third checkpoint, then resumed.
  const interrupted = join(dir, "interrupted");
  const child = spawn(process.execPath, [nerkitBin, ...args(interrupted)], { stdio: "ignore" });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await waitUntil(() => (existsSync(interrupted) && newestCheckpoint(interrupted) >= 3 ? true : undefined), "checkpoint 3", 60_000);
  child.kill("SIGKILL");
  assert.deepEqual(await exited, { code: null, signal: "SIGKILL" });
  const atKill = newestCheckpoint(interrupted);
  assert.ok(atKill < 18, `killed at step ${atKill} of 18`);
  const resumed = nerkit([...args(interrupted), "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming from .*checkpoint-${atKill} \\(step ${atKill} of 18\\)`));
  assert.match(resumed.stderr, /teacher logits reused from/);
  assert.equal(statSync(cacheFile).mtimeMs, written, "the cache file was not written again");
  assert.deepEqual(readdirSync(cache).filter((f) => f.endsWith(".f16")), cached);
  assert.ok(maxSafetensorsDifference(join(interrupted, "model.safetensors"), join(whole, "model.safetensors")) < 1e-6);
});

test("the cached logits are the teacher's at each word start, to binary16 rounding; the key follows teacher and data", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const teacher = loadTeacher(teacherDir);
  const tokenizer = loadTokenizer(teacherDir);
  const sentences = readLabelledFile(demo).slice(0, 5);
  const { examples } = buildExamples(sentences, tokenizer, teacher.arch.labels, { maxLength: 64 });
  const positions = examples.map(labelledPositions);
  const options = { cacheDir: dir, batchSize: 2, padTokenId: tokenizer.padTokenId, threads: 1 };
  const made = await attachTeacherLogits(teacher, examples, positions, options);
  assert.equal(made.reused, false);

  // Each example alone (no padding) through the teacher: the rows the cache holds, rounded to binary16.
  const session = await TokenClassifierSession.create(teacher.arch, teacher.weights, { threads: 1 });
  const L = teacher.arch.labels.length;
  let worst = 0;
  try {
    for (const e of examples) {
      const n = e.inputIds.length;
      const logits = await session.run({ rows: 1, length: n, inputIds: BigInt64Array.from(e.inputIds, BigInt), attentionMask: new BigInt64Array(n).fill(1n) });
      const soft = f16ToF32(e.soft!.logits);
      assert.deepEqual(e.soft!.positions, labelledPositions(e));
      e.soft!.positions.forEach((token, p) => {
        for (let l = 0; l < L; l++) {
          const exact = logits[token * L + l];
          // binary16 keeps 11 significant bits: half a unit is |x|·2⁻¹¹; padding in a batch adds ~1e-6.
          const error = Math.abs(soft[p * L + l] - exact) - Math.abs(exact) * 2 ** -11;
          worst = Math.max(worst, error);
        }
      });
    }
  } finally {
    await session.release();
  }
  assert.ok(worst < 1e-5, `beyond binary16 rounding by ${worst}`);

  const again: Example[] = examples.map((e) => ({ inputIds: e.inputIds, labels: e.labels }));
  const reused = await attachTeacherLogits(teacher, again, positions, options);
  assert.equal(reused.reused, true);
  assert.deepEqual([...again[2].soft!.logits], [...examples[2].soft!.logits]);

  // A changed weight (the file's last bytes are tensor data) or other data: another key.
  const weights = join(dir, "model.safetensors");
  copyFileSync(join(teacherDir, "model.safetensors"), weights);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(weights, bytes);
  const key = teacherCacheKey(teacher, examples, positions);
  assert.equal(key, made.key);
  assert.notEqual(teacherCacheKey({ ...teacher, files: [teacher.files[0], weights] }, examples, positions), key);
  assert.notEqual(teacherCacheKey(teacher, examples.slice(1), positions.slice(1)), key);
  assert.notEqual(teacherCacheKey(teacher, examples, positions.map((p) => p.slice(1))), key);
});

test("a student whose vocab_size differs from the teacher's, and labels the teacher lacks, are clear errors", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const student = studentConfig(dir, { vocab_size: 100 });
  const run = nerkit(["distill", "--teacher", teacherDir, "--student", student, "--train", demo, "--out", join(dir, "out"), "--teacher-cache", join(dir, "cache")]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /student\.json.*vocab_size.*100.*teacher's is 8000/s);
  assert.doesNotMatch(run.stderr, /at .*\.js:\d+/);

  const unknown = join(dir, "unknown.conll");
  writeFileSync(unknown, "Acme B-COMPANY\nsells O\n");
  const labels = nerkit(["distill", "--teacher", teacherDir, "--student", studentConfig(dir), "--train", unknown, "--out", join(dir, "out2"), "--teacher-cache", join(dir, "cache")]);
  assert.equal(labels.code, 2, labels.stderr);
  assert.match(labels.stderr, /unknown\.conll.*B-COMPANY.*does not know/s);
  assert.ok(!existsSync(join(dir, "cache")), "nothing cached for a refused run");
});
