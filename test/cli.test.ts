// The real `nerkit` binary, run as a user runs it: help, each command's output, exit codes, and
// errors that name the file and line without a stack trace.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nerkit, repoRoot, tempDir } from "./helpers.js";

const demo = join(repoRoot, "examples", "demo");


test("--help lists every command with its options", () => {
  const { code, stdout } = nerkit(["--help"]);
  assert.equal(code, 0);
  for (const command of ["quickstart", "convert", "stats", "evaluate"]) assert.match(stdout, new RegExp(`nerkit ${command}`));
  for (const option of ["--pred-column", "--mode", "--scheme", "--format", "--tag-column", "--lenient", "--offset-unit", "--to", "--from"]) {
    assert.ok(stdout.includes(option), option);
  }
});

test("evaluate --format json prints the documented shape", () => {
  const { code, stdout } = nerkit(["evaluate", "--gold", join(demo, "gold.conll"), "--pred", join(demo, "pred.conll"), "--format", "json"]);
  assert.equal(code, 0);
  const report = JSON.parse(stdout);
  assert.deepEqual(Object.keys(report), ["overall", "types", "micro avg", "macro avg", "weighted avg"]);
  assert.deepEqual(Object.keys(report.overall), ["precision", "recall", "f1", "accuracy"]);
  assert.deepEqual(Object.keys(report.types), ["LOC", "MISC", "ORG", "PER"]);
  assert.deepEqual(Object.keys(report.types.PER), ["precision", "recall", "f1", "support"]);
  assert.deepEqual(Object.keys(report["macro avg"]), ["precision", "recall", "f1", "support"]);
  assert.equal(report["micro avg"].f1, report.overall.f1);
});

test("evaluate reads gold and predictions from the last two columns with --pred-column", () => {
  const gold = readFileSync(join(demo, "gold.conll"), "utf8").split("\n");
  const pred = readFileSync(join(demo, "pred.conll"), "utf8").split("\n");
  const both = gold.map((line, i) => (line === "" || line.startsWith("-DOCSTART-") ? line : `${line} ${pred[i].split(" ")[1]}`)).join("\n");
  const file = join(tempDir(), "both.conll");
  writeFileSync(file, both);
  const oneFile = nerkit(["evaluate", "--gold", file, "--pred-column", "--format", "json"]);
  const twoFiles = nerkit(["evaluate", "--gold", join(demo, "gold.conll"), "--pred", join(demo, "pred.conll"), "--format", "json"]);
  assert.equal(oneFile.code, 0, oneFile.stderr);
  assert.equal(oneFile.stdout, twoFiles.stdout);
});

test("evaluate text, conlleval and html formats; strict mode differs from default on I- starts", () => {
  const args = ["evaluate", "--gold", join(demo, "gold.conll"), "--pred", join(demo, "pred.conll")];
  const text = nerkit(args);
  assert.match(text.stdout, /^ {14}precision {4}recall  f1-score   support\n\n/);
  assert.match(text.stdout, /weighted avg/);
  assert.match(nerkit([...args, "--format", "conlleval"]).stdout, /^processed 239 tokens with 50 phrases; found: 52 phrases; correct: 42\./);
  const out = join(tempDir(), "report.html");
  assert.equal(nerkit([...args, "--format", "html", "--out", out]).code, 0);
  const html = readFileSync(out, "utf8");
  assert.match(html, /<svg/);
  assert.match(html, /Token-level confusion/);
  assert.doesNotMatch(html, /<script|https?:\/\//);
  const strict = JSON.parse(nerkit([...args, "--mode", "strict", "--scheme", "IOB2", "--format", "json"]).stdout);
  const lenient = JSON.parse(nerkit([...args, "--format", "json"]).stdout);
  assert.ok(strict.types.MISC.precision !== lenient.types.MISC.precision);
});

test("bad input: exit 2 and file:line, no stack trace", () => {
  const dir = tempDir();
  const bad = join(dir, "bad.conll");
  writeFileSync(bad, "John B-PER\nSmith X-PER\n");
  const result = nerkit(["stats", bad]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2: column 2: unknown prefix 'X'`));
  assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);

  const lenient = nerkit(["stats", bad, "--lenient", "--format", "json"]);
  assert.equal(lenient.code, 0);
  assert.equal(JSON.parse(lenient.stdout).sentences, 0);
  assert.match(lenient.stderr, /skipped 1 bad record/);

  const missing = nerkit(["stats", join(dir, "missing.conll")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing\.conll: cannot read: no such file/);

  const usage = nerkit(["evaluate", "--gold", bad, "--mode", "lenient"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--mode must be one of default, strict/);
});

test("convert writes atomically and round-trips CoNLL -> JSONL -> CoNLL", () => {
  const dir = tempDir();
  const jsonl = join(dir, "demo.jsonl");
  const back = join(dir, "demo.conll");
  assert.equal(nerkit(["convert", join(demo, "gold.conll"), "--to", "jsonl", "--out", jsonl]).code, 0);
  assert.equal(nerkit(["convert", jsonl, "--to", "conll", "--scheme", "IOB2", "--out", back]).code, 0);
  const original = readFileSync(join(demo, "gold.conll"), "utf8");
  assert.match(original, /^-DOCSTART- O\n\n/, "the demo file has a document marker, which the round trip keeps");
  assert.equal(readFileSync(back, "utf8"), original);
  assert.deepEqual(readdirSync(dir).sort(), ["demo.conll", "demo.jsonl"]);

  // A failed conversion leaves the existing output untouched.
  const broken = join(dir, "broken.jsonl");
  writeFileSync(broken, '{"text": "abc", "spans": [{"start": 0, "end": 9, "label": "X"}]}\n');
  const failed = nerkit(["convert", broken, "--to", "conll", "--out", back]);
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /broken\.jsonl:1: span \[0, 9\) 'X' is outside the text/);
  assert.equal(readFileSync(back, "utf8"), original);
});

test("convert between schemes: IOB2 -> BILOU -> IOB2 is the identity", () => {
  const dir = tempDir();
  const bilou = join(dir, "bilou.conll");
  assert.equal(nerkit(["convert", join(demo, "gold.conll"), "--scheme", "BILOU", "--out", bilou]).code, 0);
  assert.match(readFileSync(bilou, "utf8"), /^Gothenburg U-LOC$/m);
  const back = nerkit(["convert", bilou, "--input-scheme", "BILOU", "--scheme", "IOB2"]);
  assert.equal(back.stdout, readFileSync(join(demo, "gold.conll"), "utf8"));
});

test("quickstart trains, evaluates and predicts on the shipped demo data, offline", () => {
  const dir = tempDir();
  const { code, stdout, stderr } = nerkit(["quickstart", "--out-dir", dir, "--epochs", "1"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /\$ npx nerkit tokenizer train/);
  // The predict step shows its input sentences, as a here-document a user can paste.
  const showcase = readFileSync(join(demo, "showcase.txt"), "utf8");
  assert.ok(stdout.includes(`--aggregation first <<'EOF'\n${showcase}EOF\n`), stdout);
  assert.match(stdout, /test:\n.*precision/s);
  for (const file of ["tokenizer/vocab.txt", "model/config.json", "model/model.safetensors", "model/training_log.jsonl"]) assert.ok(existsSync(join(dir, file)), file);
  const predictions = stdout.split("\n").filter((line) => line.startsWith('{"text"'));
  assert.deepEqual(predictions.map((line) => (JSON.parse(line) as { text: string }).text + "\n").join(""), showcase);
});
