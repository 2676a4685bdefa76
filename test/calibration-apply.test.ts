// How the pipeline applies a model's calibration.json (src/infer/calibrated-scores.ts), against
// values computed here from transformers' logits of the fixture batch (model-cases.json: bert-tiny,
// four sentences): softmax(logits / T) in float64, each word's label from the raw probabilities of
// its first sub-token (first), of the mean over its tokens (average) or of its most confident token
// (max), and an entity's score the mean over its words. The pipeline's spans and labels are
// parity-tested elsewhere; here the spans of a calibrated run must equal an uncalibrated run's,
// raw_score must be that run's score bit for bit, and score the calibrated one. Tolerance: the
// pipeline's float32 probabilities from nerkit's logits against float64 ones from torch's logits
// differ by 1.8e-8 at worst at T = 0.5 and at T = 1 (measured, every strategy); 1e-7 leaves room
// for other machines' float32 kernels while a wrong token, label or temperature misses by 1e-3 or more.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { AggregationStrategy } from "../src/infer/aggregation.js";
import { Entity, NerPipeline, TokenItem, loadPipeline } from "../src/infer/pipeline.js";
import { applyIsotonic } from "../src/metrics/calibration-file.js";
import { disjointSpans } from "../src/postprocess/disjoint.js";
import { mergeEntities } from "../src/postprocess/merge.js";
import { redact } from "../src/postprocess/redact.js";
import { calibratedModel, isotonicCalibration, temperatureCalibration } from "./calibration-cases.js";
import { modelCases, tinyModelDir } from "./model-cases.js";

const TOLERANCE = 1e-7;
const T = 0.5;
const kind = "bert";
const batch = modelCases[kind];
const texts = batch.words.map((words) => words.join(" "));

function softmax(row: readonly number[], temperature: number): number[] {
  const scaled = row.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

const argmax = (values: readonly number[]) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * The pipeline's words of a sentence (transformers' rule: a token and the "##" pieces after it; so
 * "1996-08-22" is five words, though one in the batch's labels), each with its tokens' positions in
 * the batch row and its [start, end) in the text. The tokens are nerkit's, which tokenizer-cases.json checks.
 */
function pipelineWords(pipeline: NerPipeline, sentence: number): { positions: number[]; start: number; end: number }[] {
  const encoded = pipeline.encode([texts[sentence]])[0];
  const words: { positions: number[]; start: number; end: number }[] = [];
  encoded.tokens.forEach((token, k) => {
    const [start, end] = encoded.offsets[k];
    if (token.startsWith("##") && words.length > 0) {
      words.at(-1)!.positions.push(k + 1);
      words.at(-1)!.end = end;
    } else words.push({ positions: [k + 1], start, end });
  });
  return words;
}

/** What a word-level strategy makes of one word: its label and its score at temperature `temperature`. */
function wordScore(sentence: number, tokens: number[], strategy: "first" | "average" | "max", temperature: number): { label: number; score: number } {
  const logits = batch.logits_eval[sentence];
  const raw = tokens.map((p) => softmax(logits[p], 1));
  const tempered = tokens.map((p) => softmax(logits[p], temperature));
  if (strategy === "first") {
    const label = argmax(raw[0]);
    return { label, score: tempered[0][label] };
  }
  if (strategy === "max") {
    const chosen = raw.reduce((best, row, i) => (Math.max(...row) > Math.max(...raw[best]) ? i : best), 0);
    const label = argmax(raw[chosen]);
    return { label, score: tempered[chosen][label] };
  }
  const label = argmax(raw[0].map((_, l) => mean(raw.map((row) => row[l]))));
  return { label, score: mean(tempered.map((row) => row[label])) };
}

let plain: NerPipeline;
let tempered: NerPipeline;
before(async () => {
  plain = await loadPipeline(tinyModelDir(kind), { threads: 1 });
  tempered = await loadPipeline(calibratedModel(kind, temperatureCalibration(T)), { threads: 1 });
});
after(async () => {
  await plain?.close();
  await tempered?.close();
});

test("the fixture's texts tokenize to the fixture batch's ids (the positions below are the pipeline's)", () => {
  texts.forEach((text, s) => {
    const length = batch.attention_mask[s].reduce((a, b) => a + b, 0);
    assert.deepEqual(plain.encode([text])[0].ids, batch.input_ids[s].slice(1, length - 1), text);
  });
});

for (const strategy of ["first", "average", "max"] as const) {
  test(`temperature, aggregation ${strategy}: same entities as uncalibrated, raw_score bit-identical, score from softmax(logits / T)`, async () => {
    const raw = (await plain.run(texts, { aggregation: strategy })) as Entity[][];
    const calibrated = (await tempered.run(texts, { aggregation: strategy })) as Entity[][];
    let entities = 0;
    let worst = 0;
    texts.forEach((text, s) => {
      assert.deepEqual(calibrated[s].map((e) => [e.type, e.start, e.end, e.word]), raw[s].map((e) => [e.type, e.start, e.end, e.word]), text);
      calibrated[s].forEach((e, i) => {
        assert.equal(e.raw_score, raw[s][i].score, "raw_score is the uncalibrated score, bit for bit");
        assert.equal(raw[s][i].raw_score, undefined, "no raw_score without a calibration");
        const words = pipelineWords(plain, s).filter((w) => w.start >= e.start && w.end <= e.end).map((w) => w.positions);
        assert.ok(words.length > 0);
        const scored = words.map((tokens) => wordScore(s, tokens, strategy, T));
        for (const { label } of scored) assert.equal(plain.arch.labels[label].replace(/^[BI]-/, ""), e.type);
        worst = Math.max(worst, Math.abs(e.score - mean(scored.map((w) => w.score))));
        // And the raw score from the same formula at T = 1: the independent computation is the pipeline's.
        worst = Math.max(worst, Math.abs(e.raw_score! - mean(words.map((tokens) => wordScore(s, tokens, strategy, 1).score))));
        entities++;
      });
    });
    assert.ok(entities >= 5, `only ${entities} entities to check`);
    assert.ok(worst < TOLERANCE, `worst difference ${worst}`);
  });
}

test("temperature, aggregation none and simple: each token's probability at its label, from softmax(logits / T)", async () => {
  for (const strategy of ["none", "simple"] as AggregationStrategy[]) {
    const raw = await plain.run(texts, { aggregation: strategy });
    const calibrated = await tempered.run(texts, { aggregation: strategy });
    let worst = 0;
    texts.forEach((text, s) => {
      assert.equal(calibrated[s].length, raw[s].length, text);
      const logits = batch.logits_eval[s];
      if (strategy === "none") {
        (calibrated[s] as TokenItem[]).forEach((t, i) => {
          assert.equal(t.raw_score, raw[s][i].score);
          const label = argmax(softmax(logits[t.index], 1));
          assert.equal(plain.arch.labels[label], t.label);
          worst = Math.max(worst, Math.abs(t.score - softmax(logits[t.index], T)[label]));
        });
        return;
      }
      // simple: an entity is a run of tokens; its tokens are those whose first character lies in it.
      const ids = plain.encode([text])[0];
      (calibrated[s] as Entity[]).forEach((e, i) => {
        assert.equal(e.raw_score, raw[s][i].score);
        const positions = ids.offsets.map((o, k) => (o[0] >= e.start && o[1] <= e.end ? k + 1 : -1)).filter((p) => p > 0);
        const scores = positions.map((p) => softmax(logits[p], T)[argmax(softmax(logits[p], 1))]);
        worst = Math.max(worst, Math.abs(e.score - mean(scores)));
      });
    });
    assert.ok(worst < TOLERANCE, `${strategy}: worst difference ${worst}`);
  }
});

test("a temperature below 1 visibly sharpens the scores; T = 1 changes nothing", async () => {
  const raw = (await plain.run(texts)) as Entity[][];
  const calibrated = (await tempered.run(texts)) as Entity[][];
  const pairs = calibrated.flat().map((e) => [e.raw_score!, e.score]);
  // A word's winning label gains probability as T falls, so every entity's score rises; random
  // weights give near-uniform probabilities (about 0.13 for 9 labels), and T = 0.5 adds about 0.02.
  assert.ok(pairs.every(([r, c]) => c > r), JSON.stringify(pairs));
  assert.ok(mean(pairs.map(([r, c]) => c - r)) > 0.01, JSON.stringify(pairs));
  const one = await loadPipeline(calibratedModel(kind, temperatureCalibration(1)), { threads: 1 });
  try {
    const same = (await one.run(texts)) as Entity[][];
    assert.deepEqual(same.flat().map((e) => [e.score, e.raw_score]), raw.flat().map((e) => [e.score, e.score]));
  } finally {
    await one.close();
  }
});

test("isotonic: score is the entity's raw score through its type's map, '*' for the other types", async () => {
  const maps = new Map([
    ["PER", { x: [0.1, 0.2], y: [0.3, 0.9] }],
    ["*", { x: [0, 1], y: [0.05, 0.05] }],
  ]);
  const isotonic = await loadPipeline(calibratedModel(kind, isotonicCalibration(maps)), { threads: 1 });
  try {
    const raw = (await plain.run(texts)) as Entity[][];
    const calibrated = (await isotonic.run(texts)) as Entity[][];
    const all = calibrated.flat();
    assert.ok(all.some((e) => e.type === "PER") && all.some((e) => e.type !== "PER"), "both kinds of type present");
    all.forEach((e, i) => {
      assert.equal(e.raw_score, raw.flat()[i].score);
      // By hand: 0.3 + (raw - 0.1) * 6 between the breakpoints (the raw scores lie in 0.1-0.2), clamped outside.
      const want = e.type === "PER" ? Math.min(0.9, Math.max(0.3, 0.3 + (e.raw_score! - 0.1) * 6)) : 0.05;
      assert.ok(Math.abs(e.score - want) < 1e-12, `${e.type} ${e.raw_score} -> ${e.score}, expected ${want}`);
      assert.equal(e.score, applyIsotonic(maps.get(e.type) ?? maps.get("*")!, e.raw_score!));
    });
  } finally {
    await isotonic.close();
  }
});

test("calibration: false loads the folder as if it had no calibration.json", async () => {
  const dir = calibratedModel(kind, temperatureCalibration(T));
  const ignored = await loadPipeline(dir, { threads: 1, calibration: false });
  try {
    assert.equal(ignored.calibration, undefined);
    assert.deepEqual(await ignored.run(texts), await plain.run(texts));
    assert.equal(tempered.calibration?.temperature, T);
  } finally {
    await ignored.close();
  }
});

test("--threshold compares the calibrated score, the one shown", async () => {
  const all = ((await tempered.run(texts)) as Entity[][]).flat();
  const cut = mean(all.map((e) => e.score));
  const kept = ((await tempered.run(texts, { threshold: cut })) as Entity[][]).flat();
  assert.ok(kept.length > 0 && kept.length < all.length);
  assert.ok(kept.every((e) => e.score >= cut));
  assert.equal(kept.length, all.filter((e) => e.score >= cut).length);
});

test("overlaps are settled on raw_score: the service's cleaning, the merge with rules and redaction keep what an uncalibrated model's scores keep", () => {
  const text = "Dario Wu";
  // Calibration reversed their order (an isotonic map per type can): the raw scores must decide.
  const a = { type: "PER", text: "Dario Wu", start: 0, end: 8, score: 0.9, raw_score: 0.5 };
  const b = { type: "ORG", text: "Dario Wu", start: 0, end: 8, score: 0.6, raw_score: 0.7 };
  assert.deepEqual(disjointSpans(text, [a, b]), [b]);
  assert.deepEqual(disjointSpans(text, [b, a]), [b]);
  assert.deepEqual(mergeEntities([a, b], []).map((e) => e.type), ["ORG"]);
  const c = { type: "LOC", text: "Dario Wu", start: 0, end: 8, score: 0.95, raw_score: 0.4 };
  const d = { type: "PER", text: "Wu", start: 6, end: 8, score: 0.5, raw_score: 0.6 };
  // Overlapping spans become one replacement, named after the highest raw score.
  assert.deepEqual(redact(text, [c, d], { style: "type" }).text, "[PER]");
  // Without raw_score the score decides, as before calibration existed.
  assert.deepEqual(disjointSpans(text, [{ ...a, raw_score: undefined }, { ...b, raw_score: undefined }]).map((e) => e.type), ["PER"]);
});

test("overlapping windows are merged on raw scores: a long text read in windows gives the uncalibrated run's spans", async () => {
  // Each type's calibrated score a constant, ranking the types PER > ORG > LOC > MISC whatever the raw scores say.
  const constant = (y: number) => ({ x: [0, 1], y: [y, y] });
  const maps = new Map([["PER", constant(0.9)], ["ORG", constant(0.8)], ["LOC", constant(0.7)], ["*", constant(0.6)]]);
  const isotonic = await loadPipeline(calibratedModel(kind, isotonicCalibration(maps)), { threads: 1 });
  try {
    const long = Array.from({ length: 12 }, (_, i) => texts[i % texts.length]).join(" ");
    const options = { maxLength: 24, stride: 12, aggregation: "first" as const };
    const raw = ((await plain.run([long], options)) as Entity[][])[0];
    const calibrated = ((await isotonic.run([long], options)) as Entity[][])[0];
    assert.ok(raw.length > 20);
    assert.deepEqual(calibrated.map((e) => [e.type, e.start, e.end, e.raw_score]), raw.map((e) => [e.type, e.start, e.end, e.score]));
  } finally {
    await isotonic.close();
  }
});
