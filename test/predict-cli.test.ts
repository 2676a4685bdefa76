// `nerkit predict` as a user runs it: text and JSON lines in, JSON lines out, and clear errors for
// a missing model, an unsupported one, bad input lines and an uncached Hub id offline.

import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir, nerkit, tempDir } from "./helpers.js";

const model = join(fixturesDir, "hf", "bert-tiny");


test("plain text lines in, one JSON line per document out, offsets into the text", () => {
  const { code, stdout, stderr } = nerkit(["predict", "--model", model, "--threads", "1"], "Peter Blackburn visited Brussels.\n\nEU rejects German call.\n");
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[1], { text: "", entities: [] });
  for (const { text, entities } of lines) {
    for (const e of entities) {
      assert.deepEqual(Object.keys(e), ["type", "text", "start", "end", "score"]);
      assert.equal(text.slice(e.start, e.end), e.text);
    }
  }
});

test("JSON lines keep their ids; --aggregation none gives tokens with label and index; --out writes a file", () => {
  const dir = tempDir();
  const input = join(dir, "docs.jsonl");
  const out = join(dir, "out.jsonl");
  writeFileSync(input, '{"id": "a1", "text": "Peter Blackburn"}\n{"id": 2, "text": "Brussels"}\n');
  const { code, stderr } = nerkit(["predict", "--model", model, input, "--aggregation", "none", "--ignore-labels", "", "-o", out]);
  assert.equal(code, 0, stderr);
  const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.id), ["a1", 2]);
  assert.deepEqual(Object.keys(lines[0].entities[0]), ["label", "index", "text", "start", "end", "score"]);
  assert.equal(lines[0].entities[0].index, 1);
});

test("--quantize int8 finds the same tokens' labels as float32 with scores close to them", () => {
  const text = "Peter Blackburn visited Brussels with the EU delegation on Monday.\n";
  const run = (extra: string[]) => {
    const { code, stdout, stderr } = nerkit(["predict", "--model", model, "--threads", "1", "--aggregation", "none", "--ignore-labels", "", ...extra], text);
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout).entities as { label: string; score: number }[];
  };
  const float = run([]);
  const int8 = run(["--quantize", "int8"]);
  assert.equal(int8.length, float.length);
  let moved = 0;
  int8.forEach((t, i) => (moved = Math.max(moved, Math.abs(t.score - float[i].score))));
  assert.ok(moved > 0 && moved < 0.01, `largest score change ${moved}`);
  // The untrained tiny model's top two labels can be close; int8 may flip a near-tie, not more.
  assert.ok(int8.filter((t, i) => t.label !== float[i].label).length <= 1);
  assert.match(nerkit(["predict", "--model", model, "--quantize", "int4"], text).stderr, /--quantize must be one of int8/);
});

test("errors: missing model, unsupported model_type, bad JSON line, uncached Hub id offline", () => {
  const missing = nerkit(["predict", "--model", join(tempDir(), "nope")], "x\n");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nerkit: error: .*nope/);

  const dir = tempDir();
  cpSync(model, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, model_type: "gpt2" }));
  const unsupported = nerkit(["predict", "--model", dir], "x\n");
  assert.equal(unsupported.code, 2);
  assert.match(unsupported.stderr, /model_type: unsupported: "gpt2"; nerkit supports bert, distilbert, roberta, xlm-roberta/);

  const badInput = join(tempDir(), "in.jsonl");
  writeFileSync(badInput, '{"text": "ok"}\n{"text": 5}\n');
  const bad = nerkit(["predict", "--model", model, badInput]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /in\.jsonl:2: text: "text" must be a string/);

  const offline = nerkit(["predict", "--model", "someone/some-model"], "x\n", { ...process.env, HF_HUB_OFFLINE: "1", HF_HOME: tempDir() });
  assert.equal(offline.code, 2);
  assert.match(offline.stderr, /someone\/some-model/);
  assert.doesNotMatch(offline.stderr, /at .*\.js:\d+/);
});
