// nerkit's options beside the pipeline's behaviour: Viterbi decoding under the scheme's
// transitions, overlapping and sentence-aware windows, and inputs that must not crash.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { conllevalChunks, firstIllegalTransition } from "../src/data/chunks.js";
import { SCHEMES } from "../src/data/schemes.js";
import { NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { transitionRules, viterbi } from "../src/infer/viterbi.js";
import { overflowWindows, sentenceWindows } from "../src/infer/windows.js";
import { fixturesDir } from "./helpers.js";

const LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
const probs = (...rows: number[][]) => rows.map((r) => Float32Array.from(r));

test("viterbi never starts an entity with I- and keeps types consistent (IOB2)", () => {
  // Argmax would say O, I-PER, I-LOC: two illegal transitions.
  const scores = probs([0.6, 0.1, 0.1, 0.1, 0.1], [0.3, 0.2, 0.4, 0.05, 0.05], [0.1, 0.1, 0.3, 0.1, 0.4]);
  const path = viterbi(scores, LABELS).map((i) => LABELS[i]);
  assert.equal(firstIllegalTransition(path, SCHEMES.IOB2), undefined, path.join(" "));
  assert.deepEqual(path, ["O", "B-PER", "I-PER"]);
});

test("viterbi equals argmax when argmax is already legal", () => {
  const scores = probs([0.1, 0.7, 0.1, 0.05, 0.05], [0.1, 0.1, 0.7, 0.05, 0.05], [0.8, 0.05, 0.05, 0.05, 0.05]);
  assert.deepEqual(viterbi(scores, LABELS), [1, 2, 0]);
});

test("IOBES rules: B- must be closed by E-, S- stands alone", () => {
  const labels = ["O", "B-X", "I-X", "E-X", "S-X"];
  const { allowed, start, end } = transitionRules(labels, SCHEMES.IOBES);
  const ok = (a: string, b: string) => allowed[labels.indexOf(a)][labels.indexOf(b)];
  assert.ok(ok("B-X", "E-X") && ok("B-X", "I-X") && ok("E-X", "O") && ok("S-X", "B-X"));
  assert.ok(!ok("B-X", "O") && !ok("O", "E-X") && !ok("I-X", "S-X"));
  assert.deepEqual(start, [true, true, false, false, true]);
  assert.deepEqual(end, [true, false, false, true, true]);
  const path = viterbi(probs([0.1, 0.6, 0.1, 0.1, 0.1], [0.5, 0.1, 0.1, 0.2, 0.1]), labels).map((i) => labels[i]);
  assert.deepEqual(path, ["B-X", "E-X"]);
});

test("overflow windows cover every token and overlap by the stride", () => {
  for (const [count, size, stride] of [
    [10, 4, 1],
    [100, 62, 16],
    [62, 62, 16],
    [63, 62, 16],
  ]) {
    const windows = overflowWindows(count, size, stride);
    assert.equal(windows[0].start, 0);
    assert.equal(windows[windows.length - 1].end, count);
    for (let i = 1; i < windows.length; i++) assert.equal(windows[i - 1].end - windows[i].start, Math.min(stride, windows[i - 1].end - windows[i].start));
    for (const w of windows) assert.ok(w.end - w.start <= size);
  }
  assert.throws(() => overflowWindows(10, 4, 4), /--stride/);
});

test("sentence windows end at sentence starts when one is in the second half", () => {
  const windows = sentenceWindows(30, 10, 2, [7, 14, 23]);
  assert.deepEqual(windows[0], { start: 0, end: 7 });
  assert.equal(windows[windows.length - 1].end, 30);
  for (const w of windows) assert.ok(w.end - w.start <= 10);
});

let pipeline: NerPipeline;
before(async () => {
  pipeline = await loadPipeline(join(fixturesDir, "hf", "bert-tiny"), { threads: 1 });
});
after(async () => pipeline?.close());

test("empty text, whitespace and lone surrogates give results, not errors", async () => {
  const [empty, blank, surrogates] = await pipeline.run(["", "   \n\t", "a \uD800 b \uDFFF c"]);
  assert.deepEqual(empty, []);
  assert.deepEqual(blank, []);
  for (const e of surrogates) assert.equal("a \uD800 b \uDFFF c".slice(e.start, e.end), e.text);
});

test("a long text: windows 'overlap' read all of it, 'hf' only the first window", async () => {
  const text = Array.from({ length: 400 }, (_, i) => `Word${i % 7} visited Paris .`).join(" ");
  let truncated = 0;
  pipeline.onTruncate = () => truncated++;
  const [hf] = await pipeline.run([text], { aggregation: "simple", windows: "hf", ignoreLabels: [] });
  assert.equal(truncated, 1);
  const [overlap] = await pipeline.run([text], { aggregation: "simple", ignoreLabels: [] }); // overlap is the default
  const [sentences] = await pipeline.run([text], { aggregation: "simple", windows: "sentences", ignoreLabels: [] });
  const last = (list: { end: number }[]) => Math.max(...list.map((e) => e.end));
  assert.ok(last(hf) < text.length / 2);
  assert.equal(last(overlap), text.length);
  assert.equal(last(sentences), text.length);
  assert.equal(truncated, 1, "overlap and sentences read the whole text");
  for (const e of overlap) assert.equal(text.slice(e.start, e.end), e.text);
  pipeline.onTruncate = undefined;
});

test("a 10 MB text gives a result (windows hf), a 1 MB text is read whole (overlap)", async () => {
  const sentence = "Peter Blackburn reported from BRUSSELS on Thursday . ";
  const big = sentence.repeat(Math.ceil(10_000_000 / sentence.length));
  const [first] = await pipeline.run([big], { windows: "hf" });
  assert.ok(first.length > 0 && first.every((e) => big.slice(e.start, e.end) === e.text));
  const text = big.slice(0, 1_000_000);
  const [entities] = await pipeline.run([text], { windows: "overlap", batchSize: 32, ignoreLabels: [] });
  assert.ok(entities.every((e, i) => i === 0 || e.start >= entities[i - 1].end));
  assert.ok(Math.max(...entities.map((e) => e.end)) >= text.trimEnd().length);
});

test("viterbi decoding through the pipeline yields only legal IOB2 sequences", async () => {
  const text = "EU rejects German call to boycott British lamb . Peter Blackburn reported from Brussels .";
  const [tokens] = await pipeline.run([text], { aggregation: "none", decode: "viterbi", ignoreLabels: [] });
  const tags = (tokens as { label: string }[]).map((t) => t.label);
  assert.equal(firstIllegalTransition(tags, SCHEMES.IOB2), undefined, tags.join(" "));
  assert.ok(conllevalChunks(tags).length >= 0);
});
