// Scoring a model on labelled data: word windows keep every word once; the word tagger's sorted,
// padded batches give the tags of a plain one-window-at-a-time reference; `nerkit evaluate --model`
// prints the report `nerkit train --test` prints and the one `evaluate --gold --pred` gives on the
// predictions it writes, for CoNLL and JSONL input and with windows; predict tags pre-tokenized
// CoNLL and JSON lines one tag per word; an int8 export runs as int8; errors are named.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wordWindows } from "../src/infer/word-windows.js";
import { finishSteps, tagWordsSteps, wordLogitsSteps } from "../src/infer/word-tagger.js";
import { argmax } from "../src/infer/aggregation.js";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { architectureOf } from "../src/model/architecture.js";
import { TokenClassifierSession } from "../src/model/session.js";
import { loadTokenizer } from "../src/text/tokenizers/index.js";
import { conllWords, appendTagColumn } from "../src/data/conll-columns.js";
import { exportModel } from "../src/model/export/export-model.js";
import { SeededRandom } from "../src/train/random.js";
import { nerkit, nerkitError, repoRoot, tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";

const demo = join(repoRoot, "examples", "demo");

test("wordWindows: explicit cases", () => {
  // Fits: one window.
  assert.deepEqual(wordWindows([1, 2, 1], 4, 1), [{ start: 0, end: 3, keepFrom: 0, keepTo: 3 }]);
  // Six one-token words, room 4, stride 2: windows [0,4) [2,6); the shared words 2, 3 split between them.
  assert.deepEqual(wordWindows([1, 1, 1, 1, 1, 1], 4, 2), [
    { start: 0, end: 4, keepFrom: 0, keepTo: 3 },
    { start: 2, end: 6, keepFrom: 3, keepTo: 6 },
  ]);
  // A word longer than the window gets a window of its own; nothing is dropped.
  assert.deepEqual(wordWindows([1, 9, 1], 4, 1), [
    { start: 0, end: 1, keepFrom: 0, keepTo: 1 },
    { start: 1, end: 2, keepFrom: 1, keepTo: 2 },
    { start: 2, end: 3, keepFrom: 2, keepTo: 3 },
  ]);
  assert.deepEqual(wordWindows([], 4, 1), []);
  assert.throws(() => wordWindows([1], 4, 4), /stride/);
});

test("wordWindows: every word is kept by exactly one window that reads it; windows fit and share at most the stride", () => {
  const random = new SeededRandom(3);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(random.next() * 40);
    const counts = Array.from({ length: n }, () => Math.floor(random.next() * 5)); // zero-token words too
    const room = 1 + Math.floor(random.next() * 12);
    const stride = Math.floor(random.next() * room);
    const windows = wordWindows(counts, room, stride);
    const keptBy = new Array<number>(n).fill(0);
    const tokens = (a: number, b: number) => counts.slice(a, b).reduce((x, y) => x + y, 0);
    windows.forEach((w, k) => {
      assert.ok(w.start <= w.keepFrom && w.keepFrom <= w.keepTo && w.keepTo <= w.end, JSON.stringify(w));
      for (let i = w.keepFrom; i < w.keepTo; i++) keptBy[i]++;
      assert.ok(w.end - w.start === 1 || tokens(w.start, w.end) <= room, `window ${k} of ${JSON.stringify({ counts, room, stride })}`);
      if (k > 0) {
        assert.ok(w.start > windows[k - 1].start, "windows move on");
        assert.ok(tokens(w.start, windows[k - 1].end) <= stride || windows[k - 1].end - w.start <= 0, "shared tokens within the stride");
      }
    });
    assert.deepEqual(keptBy, new Array(n).fill(1), JSON.stringify({ counts, room, stride }));
    assert.equal(windows[windows.length - 1].end, n);
  }
});

test("the word tagger's sorted, padded batches give the tags of a plain reference run one window at a time", async () => {
  const dir = tinyModelDir("bert");
  const checkpoint = loadCheckpoint(dir);
  const arch = architectureOf(checkpoint.config);
  const tokenizer = loadTokenizer(dir, { flavor: "transformers" });
  const session = await TokenClassifierSession.create(arch, (name) => checkpoint.weights.tensor(name), { threads: 1 });
  try {
    const sentences = conllWords(readFileSync(join(demo, "test.conll"), "utf8")).slice(0, 40);
    sentences.push(sentences.slice(0, 12).flat()); // a long one, windowed at maxLength 12
    sentences.push(["Peter", "qzxvqzxvqzxvqzxvqzxvqzxvqzxv", "visited"]); // a word longer than a window
    const maxLength = 12;
    const model = { session, tokenizer, labels: arch.labels, maxLength };
    let progress = 0;
    const tags = await finishSteps(tagWordsSteps(model, sentences, { batchSize: 7 }), (p) => (progress = p.batches));

    // Reference: each window alone (batch of one, no padding), words labelled by their first sub-token.
    const expected: string[][] = [];
    const expectedLogits: (Float32Array | null)[][] = [];
    let windowCount = 0;
    for (const words of sentences) {
      const counts = words.map((_, w) => tokenizer.encodeWords(words, { addSpecialTokens: false }).wordIds.filter((x) => x === w).length);
      const out = words.map(() => "O");
      const rows = words.map((): Float32Array | null => null);
      for (const window of wordWindows(counts, maxLength - 2, Math.floor((maxLength - 2) / 4))) {
        windowCount++;
        const encoding = tokenizer.encodeWords(words.slice(window.start, window.end), { addSpecialTokens: true });
        const ids = encoding.ids.length > maxLength ? [...encoding.ids.slice(0, maxLength - 1), encoding.ids[encoding.ids.length - 1]] : encoding.ids;
        const logits = await session.run({ rows: 1, length: ids.length, inputIds: BigInt64Array.from(ids.map(BigInt)), attentionMask: new BigInt64Array(ids.length).fill(1n) });
        for (let w = window.keepFrom; w < window.keepTo; w++) {
          const t = encoding.wordIds.indexOf(w - window.start);
          if (t >= 0 && t < ids.length - 1) {
            rows[w] = logits.slice(t * arch.labels.length, (t + 1) * arch.labels.length);
            out[w] = arch.labels[argmax(rows[w]!)];
          }
        }
      }
      expected.push(out);
      expectedLogits.push(rows);
    }
    assert.deepEqual(tags, expected);
    // With logits kept: the same tags, and each word's row is its first sub-token's in the window that keeps it.
    const withLogits = await finishSteps(wordLogitsSteps(model, sentences, { batchSize: 7 }));
    assert.deepEqual(withLogits.tags, expected);
    // Padding does not change ONNX Runtime's logits of the real tokens here (measured: identical), so equal, not close.
    assert.deepEqual(withLogits.logits, expectedLogits);
    assert.ok(windowCount > sentences.length, "some sentences were windowed");
    assert.ok(tokenizer.encodeWords(["qzxvqzxvqzxvqzxvqzxvqzxvqzxv"], { addSpecialTokens: false }).ids.length > maxLength, "the long word is longer than a window");
    assert.equal(progress, Math.ceil(windowCount / 7), "every batch of 7 windows reported");
    assert.equal(tags[tags.length - 1].length, sentences[sentences.length - 1].length, "every word of the long sentence has a tag");
  } finally {
    await session.release();
  }
});

test("appendTagColumn keeps every line and column and adds the tags; conllWords reads the first column", () => {
  const text = "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects\tVBZ\tO  \r\n\n\nPeter NNP B-PER\n";
  assert.deepEqual(conllWords(text), [["EU", "rejects"], ["Peter"]]);
  assert.equal(appendTagColumn(text, [["B-ORG", "O"], ["I-PER"]]), "-DOCSTART- -X- O\n\nEU NNP B-ORG B-ORG\nrejects\tVBZ\tO\tO\n\n\nPeter NNP B-PER I-PER\n");
  assert.equal(nerkitError(() => appendTagColumn(text, [["B-ORG", "O"], []], "x.conll"), "E_MISMATCH").describe(), "x.conll:7: no predicted tag for this token (sentence 2, word 1)");
});

/** The text report after "test:" in train's output. */
function testReport(stdout: string): string {
  const at = stdout.indexOf("test:\n");
  assert.ok(at >= 0, stdout);
  return stdout.slice(at + "test:\n".length);
}

test("evaluate --model prints train --test's report, and evaluate --gold --pred's on the predictions it writes (CoNLL and JSONL, windowed)", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, "model");
  const testFile = join(demo, "test.conll");
  // --max-length 8 windows most demo sentences, in training and in both evaluations.
  const trained = nerkit(["train", "--model", tinyModelDir("bert"), "--train", join(demo, "train.conll"), "--dev", join(demo, "dev.conll"), "--test", testFile, "--out", model, "--max-steps", "4", "--batch-size", "16", "--lr", "1e-2", "--max-length", "8", "--threads", "1"]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /dev batch \d+\/\d+[^]*dev f1/, "progress lines during the dev evaluation, before its result");
  assert.match(trained.stderr, /test batch \d+\/\d+/, "progress lines during the test evaluation");

  const preds = join(dir, "preds.conll");
  // No --digits: with --model the report has 4 decimals, as train --test prints it.
  const evaluated = nerkit(["evaluate", "--model", model, "--data", testFile, "--max-length", "8", "-o", preds, "--threads", "1"]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.equal(evaluated.stdout, testReport(trained.stdout));
  assert.match(evaluated.stderr, /batch \d+\/\d+/);

  // The predictions file: the input's lines with one more column.
  const input = readFileSync(testFile, "utf8").split("\n");
  const written = readFileSync(preds, "utf8").split("\n");
  assert.equal(written.length, input.length);
  written.forEach((line, i) => {
    if (input[i].trim() === "" || input[i].startsWith("-DOCSTART-")) assert.equal(line, input[i]);
    else assert.match(line, new RegExp(`^${input[i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} [BIO]`));
  });
  for (const args of [["--gold", testFile, "--pred", preds], ["--gold", preds, "--pred-column"]]) {
    const scored = nerkit(["evaluate", ...args, "--digits", "4"]);
    assert.equal(scored.code, 0, scored.stderr);
    assert.equal(scored.stdout, evaluated.stdout, args.join(" "));
  }
  const strict = nerkit(["evaluate", "--model", model, "--data", testFile, "--max-length", "8", "--mode", "strict", "--scheme", "IOB2", "--format", "json", "--threads", "1"]);
  const strictFromFile = nerkit(["evaluate", "--gold", testFile, "--pred", preds, "--mode", "strict", "--scheme", "IOB2", "--format", "json"]);
  assert.equal(strict.code, 0, strict.stderr);
  // With --model the JSON adds the scores' calibration quality; the rest is the file evaluation's, as printed.
  const { calibration, ...strictReport } = JSON.parse(strict.stdout);
  assert.equal(calibration.raw.bins.length, 15, "the calibration part of evaluate --model");
  assert.equal(JSON.stringify(strictReport, null, 2) + "\n", strictFromFile.stdout, "strict mode");
  // Without --max-length, sentences are read whole: a different model input, still one tag per word.
  const whole = nerkit(["evaluate", "--model", model, "--data", testFile, "--format", "json", "--threads", "1"]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.ok(JSON.parse(whole.stdout).overall.f1 >= 0);

  // The same sentences as span JSONL (with their tokens): the same report.
  const jsonl = join(dir, "test.jsonl");
  const converted = nerkit(["convert", testFile, "--to", "jsonl", "-o", jsonl]);
  assert.equal(converted.code, 0, converted.stderr);
  const fromJsonl = nerkit(["evaluate", "--model", model, "--data", jsonl, "--max-length", "8", "--digits", "4", "--threads", "1"]);
  assert.equal(fromJsonl.code, 0, fromJsonl.stderr);
  assert.equal(fromJsonl.stdout, evaluated.stdout);
});

test("predict --format conll gives one tag per token, the tags evaluate --model writes; JSON lines with tokens round-trip through convert", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = tinyModelDir("bert");
  const data = join(demo, "dev.conll");
  const preds = join(dir, "preds.conll");
  assert.equal(nerkit(["evaluate", "--model", model, "--data", data, "-o", preds, "--threads", "1"]).code, 0);
  const predicted = readFileSync(preds, "utf8").split("\n").map((l) => l.split(" "));

  // Tokens only (one column) in: each token line gains its tag.
  const tokensOnly = readFileSync(data, "utf8").split("\n").map((l) => (l.startsWith("-DOCSTART-") ? l : l.split(" ")[0])).join("\n");
  const run = nerkit(["predict", "--model", model, "--format", "conll", "--threads", "1"], tokensOnly);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.equal(lines.length, predicted.length);
  lines.forEach((line, i) => {
    if (predicted[i].length < 3) return assert.equal(line, predicted[i].join(" "));
    assert.deepEqual(line.split(" "), [predicted[i][0], predicted[i][predicted[i].length - 1]], `line ${i + 1}`);
  });

  // JSON lines: a record with tokens gets tags and spans; a text record still gets entities.
  const words = ["Peter", "Blackburn", "visited", "Brussels", "."];
  const text = "Peter Blackburn visited Brussels.";
  let at = 0;
  const tokens = words.map((w) => ({ text: w, start: (at = text.indexOf(w, at)), end: (at += w.length) }));
  const input = JSON.stringify({ id: 3, text, tokens }) + "\n" + JSON.stringify({ text }) + "\n";
  const json = nerkit(["predict", "--model", model, "--format", "jsonl", "--threads", "1"], input);
  assert.equal(json.code, 0, json.stderr);
  const [tagged, plain] = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(tagged.id, 3);
  assert.equal(tagged.tags.length, words.length);
  assert.deepEqual(tagged.tokens, tokens);
  assert.ok(Array.isArray(plain.entities));
  const file = join(dir, "tagged.jsonl");
  writeFileSync(file, JSON.stringify(tagged) + "\n");
  const back = nerkit(["convert", file, "--from", "jsonl", "--to", "conll"]);
  assert.equal(back.code, 0, back.stderr);
  const expectedTags = tagged.tags.map((tag: string, i: number) => (tag === "O" || tagged.tags[i - 1]?.slice(2) === tag.slice(2) && tag[0] === "I" ? tag : "B-" + tag.slice(2)));
  assert.deepEqual(back.stdout.trim().split("\n").map((l) => l.split(" ")), words.map((w, i) => [w, expectedTags[i]]));
});

test("an int8 export runs as int8 in predict and evaluate (and says so); without its safetensors it says why it cannot", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const original = tinyModelDir("bert");
  const exported = join(dir, "int8");
  exportModel(original, exported, { quantize: "int8" });
  const input = "Peter Blackburn visited Brussels .\nEU rejects German call to boycott British lamb .\n";
  const args = ["predict", "--aggregation", "none", "--ignore-labels", "", "--threads", "1"];
  const fromExport = nerkit([...args, "--model", exported], input);
  assert.equal(fromExport.code, 0, fromExport.stderr);
  assert.match(fromExport.stderr, /is an int8 export .*running the int8 model/);
  const int8 = nerkit([...args, "--model", original, "--quantize", "int8"], input);
  const float = nerkit([...args, "--model", original], input);
  assert.equal(fromExport.stdout, int8.stdout);
  assert.notEqual(fromExport.stdout, float.stdout, "int8 scores differ from float32 ones");

  const data = join(demo, "dev.conll");
  const evaluatedExport = nerkit(["evaluate", "--model", exported, "--data", data, "--format", "json", "--threads", "1"]);
  const evaluatedInt8 = nerkit(["evaluate", "--model", original, "--quantize", "int8", "--data", data, "--format", "json", "--threads", "1"]);
  assert.equal(evaluatedExport.code, 0, evaluatedExport.stderr);
  assert.equal(evaluatedExport.stdout, evaluatedInt8.stdout);

  const graphOnly = join(dir, "graph-only");
  exportModel(original, graphOnly, { quantize: "int8", safetensors: false });
  const failed = nerkit([...args, "--model", graphOnly], input);
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /no model\.safetensors .*onnx\/ graph is for transformers\.js .*export again without --no-safetensors/);
});

test("evaluate --model and predict --format conll: errors are named", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = tinyModelDir("bert");
  const data = join(demo, "dev.conll");
  const cases: [string[], RegExp, string?][] = [
    [["evaluate", "--model", model], /--model and --data go together/],
    [["evaluate", "--data", data], /--model and --data go together/],
    [["evaluate", "--model", model, "--data", data, "--pred-column"], /--pred-column cannot be used with --model/],
    [["evaluate", "--model", model, "--data", join(dir, "missing.conll")], /missing\.conll: cannot read/],
    [["evaluate", "--model", model, "--data", data, "--max-length", "100"], /--max-length 100 is more than the model reads \(64 tokens\)/],
    [["evaluate"], /give --gold FILE with --pred or --pred-column, or --model with --data FILE/],
    [["predict", "--model", model, "--format", "jsonl"], /<stdin>:1: tokens\[0\]: token \[0, 9\) does not match the text/, '{"text": "Peter", "tokens": [{"text": "Peter", "start": 0, "end": 9}]}\n'],
  ];
  for (const [args, message, input] of cases) {
    const run = nerkit(args, input ?? "");
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(" "));
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  }
});
