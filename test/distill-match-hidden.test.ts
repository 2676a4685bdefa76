// `nerkit distill --match-hidden` end to end on the tiny BERT fixture as teacher (2 layers, hidden 32)
// and a smaller random student (1 layer, hidden 16, so projections): the student saved is an
// ordinary checkpoint (exactly the model's tensors, no projection), the projections and their
// moments are in each checkpoint's optimizer.safetensors, the teacher's states are computed once
// and reused, and a run killed with SIGKILL and resumed ends with the parameters, projections and
// moments of an uninterrupted one; --resume with other pairs is refused. In process: the cached
// states are the teacher's hidden states at each token, to binary16 rounding, batched in pair
// order; the cache key follows the layers and the data. Layer lists parsed and checked (a table of
// cases) and the bare option's TinyBERT mapping; on the command line, clear usage errors for a
// layer out of range, a malformed list and a cache over --hidden-cache-limit, before the teacher runs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { parameterTable } from "../src/model/parameters.js";
import { architectureOf } from "../src/model/architecture.js";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { buildHiddenStatesModel, hiddenStatesOutput } from "../src/model/graph/hidden-states-graph.js";
import { loadTokenizer } from "../src/text/tokenizers/index.js";
import { buildExamples } from "../src/train/examples.js";
import { readLabelledFile } from "../src/train/prepare.js";
import { attachTeacherHidden, hiddenCacheKey } from "../src/train/distill/teacher-hidden.js";
import { collateTeacherHidden } from "../src/train/distill/hidden-targets.js";
import { loadTeacher } from "../src/train/distill/prepare-distill.js";
import { checkLayerPairs, defaultLayerPairs, formatLayerPairs, parseLayerPairs } from "../src/train/distill/layer-pairs.js";
import { NerkitError } from "../src/errors.js";
import { nerkit, nerkitBin, repoRoot, tempDir } from "./helpers.js";
import { waitUntil } from "./processes.js";
import { maxSafetensorsDifference, tinyModelDir } from "./model-cases.js";

const teacherDir = tinyModelDir("bert");
const demo = join(repoRoot, "examples", "demo", "gold.conll");

function studentConfig(dir: string): string {
  const path = join(dir, "student.json");
  const config = { model_type: "bert", hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64, type_vocab_size: 2, hidden_act: "gelu", initializer_range: 0.02, layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function newestCheckpoint(dir: string): number {
  const steps = readdirSync(dir).filter((f) => /^checkpoint-\d+$/.test(f) && existsSync(join(dir, f, "trainer_state.json"))).map((f) => Number(f.slice(11)));
  return Math.max(0, ...steps);
}

test("distill --match-hidden: an ordinary student, projections only in the training state, states cached once, SIGKILL then --resume gives the same parameters and projections", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, "cache");
  // 20 sentences in batches of 4: 5 steps per epoch, 15 in all; teacher layer 2 to student layer 1, embeddings to embeddings.
  const args = (out: string, pairs = "2:1,0:0") => ["distill", "--teacher", teacherDir, "--student", studentConfig(dir), "--train", demo, "--out", out, "--teacher-cache", cache, "--match-hidden", pairs, "--hidden-weight", "0.5", "--epochs", "3", "--batch-size", "4", "--lr", "1e-3", "--save-every", "1", "--seed", "5", "--threads", "1"];

  const whole = join(dir, "whole");
  const first = nerkit(args(whole));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /matching hidden states \(teacher:student\) 2:1,0:0 with weight 0\.5, projections 16 → 32/);
  assert.match(first.stderr, /teacher hidden states computed and cached in .*\.hidden\.f16/);
  const statesFile = readdirSync(cache).find((f) => f.endsWith(".hidden.f16"))!;
  const written = statSync(join(cache, statesFile)).mtimeMs;

  // The student holds exactly the model's tensors; the projections (and their moments) are training state.
  const arch = architectureOf(loadCheckpoint(whole).config);
  const modelNames = parameterTable(arch).map((p) => p.name).sort();
  assert.deepEqual([...readSafetensors(join(whole, "model.safetensors")).names].sort(), modelNames);
  const last = join(whole, "checkpoint-15");
  assert.deepEqual([...readSafetensors(join(last, "model.safetensors")).names].sort(), modelNames);
  const optimizer = readSafetensors(join(last, "optimizer.safetensors"));
  for (const k of [0, 1]) for (const part of ["weight", "bias"]) for (const prefix of ["", "adam_m.", "adam_v."]) assert.ok(optimizer.has(`${prefix}hidden_projection.${k}.${part}`), `${prefix}hidden_projection.${k}.${part}`);
  assert.deepEqual(optimizer.tensor("hidden_projection.0.weight").shape, [32, 16]);

  const interrupted = join(dir, "interrupted");
  const child = spawn(process.execPath, [nerkitBin, ...args(interrupted)], { stdio: "ignore" });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  await waitUntil(() => (existsSync(interrupted) && newestCheckpoint(interrupted) >= 3 ? true : undefined), "checkpoint 3", 120_000);
  child.kill("SIGKILL");
  assert.deepEqual(await exited, { code: null, signal: "SIGKILL" });
  const atKill = newestCheckpoint(interrupted);
  assert.ok(atKill < 15, `killed at step ${atKill} of 15`);
  const resumed = nerkit([...args(interrupted), "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming from .*checkpoint-${atKill} \\(step ${atKill} of 15\\)`));
  assert.match(resumed.stderr, /teacher hidden states reused from/);
  assert.equal(statSync(join(cache, statesFile)).mtimeMs, written, "the states were not computed again");
  // Parameters, projections and moments: the resumed run's last checkpoint is the uninterrupted one's.
  assert.ok(maxSafetensorsDifference(join(interrupted, "model.safetensors"), join(whole, "model.safetensors")) < 1e-6);
  assert.ok(maxSafetensorsDifference(join(interrupted, "checkpoint-15", "optimizer.safetensors"), join(last, "optimizer.safetensors")) < 1e-6);

  // Other pairs make another run: --resume refuses, naming the option.
  const other = nerkit([...args(interrupted, "2:1"), "--resume"]);
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /--match-hidden: 2:1,0:0 in the checkpoint, 2:1 now/);
});

test("the cached states are the teacher's hidden states at every token, to binary16 rounding, batched in pair order; the key follows layers and data", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const teacher = loadTeacher(teacherDir);
  const tokenizer = loadTokenizer(teacherDir);
  const { examples } = buildExamples(readLabelledFile(demo).slice(0, 5), tokenizer, teacher.arch.labels, { maxLength: 64 });
  const options = { cacheDir: dir, batchSize: 2, padTokenId: tokenizer.padTokenId, limitBytes: 2 ** 30, threads: 1 };
  const pairLayers = [2, 0, 2];
  const made = await attachTeacherHidden(teacher, examples, pairLayers, options);
  assert.equal(made.reused, false);
  const tokens = examples.reduce((n, e) => n + e.inputIds.length, 0);
  assert.equal(statSync(made.file).size, tokens * 2 * 32 * 2, "binary16, layers 0 and 2 once each, width 32, every token");

  // Each example alone (no padding) through the teacher; a batch of examples 3 and 1, padded.
  const H = teacher.arch.hidden;
  const session = await ort.InferenceSession.create(buildHiddenStatesModel(teacher.arch, teacher.weights, [0, 2]), { intraOpNumThreads: 1 });
  const rows = [examples[3], examples[1]];
  const length = Math.max(...rows.map((e) => e.inputIds.length));
  const batch = collateTeacherHidden(rows, 2, length) as { teacherHidden: Float32Array[] };
  assert.equal(batch.teacherHidden.length, 3);
  let worst = 0;
  try {
    for (const [r, e] of rows.entries()) {
      const n = e.inputIds.length;
      const dims = [1, n];
      const out = await session.run({
        input_ids: new ort.Tensor("int64", BigInt64Array.from(e.inputIds, BigInt), dims),
        attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), dims),
        token_type_ids: new ort.Tensor("int64", new BigInt64Array(n), dims),
      });
      pairLayers.forEach((layer, k) => {
        const exact = out[hiddenStatesOutput(layer)].data as Float32Array;
        for (let i = 0; i < n * H; i++) {
          // binary16 keeps 11 significant bits: half a unit is |x|·2⁻¹¹; padding in a batch adds ~1e-6.
          worst = Math.max(worst, Math.abs(batch.teacherHidden[k][r * length * H + i] - exact[i]) - Math.abs(exact[i]) * 2 ** -11);
        }
        // Padding rows stay zero.
        for (let i = n * H; i < length * H; i++) assert.equal(batch.teacherHidden[k][r * length * H + i], 0);
      });
    }
  } finally {
    await session.release();
  }
  assert.ok(worst < 1e-5, `beyond binary16 rounding by ${worst}`);
  assert.deepEqual(batch.teacherHidden[0], batch.teacherHidden[2], "two pairs of one teacher layer read the same states");

  const again = examples.map((e) => ({ inputIds: e.inputIds, labels: e.labels }));
  assert.equal((await attachTeacherHidden(teacher, again, [0, 2], options)).reused, true, "the same layers, in another pair order, reuse the entry");
  assert.notEqual(hiddenCacheKey(teacher, [2], examples), hiddenCacheKey(teacher, [0, 2], examples));
  assert.notEqual(hiddenCacheKey(teacher, [0, 2], examples.slice(1)), hiddenCacheKey(teacher, [0, 2], examples));
  await assert.rejects(attachTeacherHidden(teacher, again, [1], { ...options, limitBytes: 1024 }), /--match-hidden: the teacher's hidden states at layers 1 would take \d+ KiB on disk .*over --hidden-cache-limit \(1 KiB\)/);
});

const pairCases: { pairs: string; teacherLayers: number; studentLayers: number; error?: RegExp }[] = [
  { pairs: "3:1", teacherLayers: 2, studentLayers: 1, error: /--match-hidden 3:1: the teacher has 2 layers, so its layers are 0 \(the embeddings' output\) to 2/ },
  { pairs: "2:2", teacherLayers: 2, studentLayers: 1, error: /--match-hidden 2:2: the student has 1 layer, so its layers are 0 \(the embeddings' output\) to 1/ },
  { pairs: "2-1", teacherLayers: 2, studentLayers: 1, error: /--match-hidden expects TEACHER:STUDENT layer pairs separated by commas, e\.g\. 4:2,8:4 .*got '2-1'/ },
  { pairs: "2:1,", teacherLayers: 2, studentLayers: 1, error: /--match-hidden expects TEACHER:STUDENT .*'' is not a pair/ },
  { pairs: "2:1:0", teacherLayers: 2, studentLayers: 1, error: /'2:1:0' is not a pair/ },
  { pairs: "-1:1", teacherLayers: 2, studentLayers: 1, error: /'-1:1' is not a pair/ },
  { pairs: "2:1,2:1", teacherLayers: 2, studentLayers: 1, error: /--match-hidden names the pair 2:1 twice/ },
  { pairs: "12:4, 8:3,0:0", teacherLayers: 12, studentLayers: 4 },
];

test("--match-hidden lists: parsed and checked against both models' layers, table-driven; the bare option's TinyBERT mapping", () => {
  for (const c of pairCases) {
    const check = () => checkLayerPairs(parseLayerPairs(c.pairs), c.teacherLayers, c.studentLayers);
    if (c.error) assert.throws(check, (e: unknown) => e instanceof NerkitError && e.code === "E_USAGE" && c.error!.test(e.message), c.pairs);
    else assert.doesNotThrow(check, c.pairs);
  }
  assert.equal(formatLayerPairs(parseLayerPairs("12:4, 8:3,0:0")), "12:4,8:3,0:0");
  // Student layer m imitates teacher layer m·N/M, rounded: the last always the last.
  for (const [teacher, student, expected] of [[12, 4, "3:1,6:2,9:3,12:4"], [12, 6, "2:1,4:2,6:3,8:4,10:5,12:6"], [4, 3, "1:1,3:2,4:3"], [2, 1, "2:1"], [4, 4, "1:1,2:2,3:3,4:4"]] as const) {
    assert.equal(formatLayerPairs(defaultLayerPairs(teacher, student)), expected, `${teacher} → ${student}`);
  }
});

test("--match-hidden on the command line: a layer out of range, a malformed list, a cache over the limit and --hidden-weight alone are usage errors naming the flag", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, "cache");
  const run = (...extra: string[]) => nerkit(["distill", "--teacher", teacherDir, "--student", studentConfig(dir), "--train", demo, "--out", join(dir, "out"), "--teacher-cache", cache, ...extra]);
  for (const [extra, message] of [
    [["--match-hidden", "3:1"], /--match-hidden 3:1: the teacher has 2 layers/],
    [["--match-hidden", "2-1"], /--match-hidden expects TEACHER:STUDENT layer pairs/],
    [["--hidden-weight", "2"], /--hidden-weight and --hidden-cache-limit apply to --match-hidden, which is not given/],
    [["--match-hidden", "--hidden-cache-limit", String(2 / 2 ** 20)], /--match-hidden: the teacher's hidden states at layers 2 would take \d+ KiB on disk .*over --hidden-cache-limit \(2 KiB\)/],
  ] as const) {
    const result = run(...extra);
    assert.equal(result.code, 2, `${extra.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
  }
  assert.ok(!existsSync(cache), "refused before the teacher ran: nothing cached");
});
