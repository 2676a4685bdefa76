// The pieces of the review order that need no database: the informativeness measure on distributions
// computed by hand (values from Python's math.log, printed to 16 digits), the pipeline's per-word
// distributions (gathered across overlapping windows, from the same run: the model runs once), the
// MinHash estimate against the exact Jaccard similarity, and the diversity step's order worked out
// by hand.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadPipeline, TokenItem } from "../src/infer/pipeline.js";
import type { TokenPrediction } from "../src/infer/aggregation.js";
import { WordDistributions } from "../src/infer/word-distributions.js";
import { informativeness, margin, normalisedEntropy } from "../src/metrics/informativeness.js";
import { jaccard, minhash, similarity, SIGNATURE_LENGTH } from "../src/text/minhash.js";
import { diverseOrder } from "../src/serve/review/diverse-order.js";
import { readScoredTexts } from "../src/serve/reading.js";
import { tinyModelDir } from "./model-cases.js";

describe("informativeness", () => {
  test("normalised entropy and margin of hand-computed distributions", () => {
    const cases: [number[], number, number][] = [
      // distribution, H / ln L, p1 - p2
      [[1, 0, 0], 0, 1],
      [[1 / 3, 1 / 3, 1 / 3], 1, 0],
      [[0.5, 0.5, 0, 0], 0.5, 0],
      [[0.7, 0.2, 0.1], 0.7298466991620974, 0.5],
      [[0.9, 0.1], 0.46899559358928117, 0.8],
    ];
    for (const [p, entropy, gap] of cases) {
      assert.ok(Math.abs(normalisedEntropy(p) - entropy) < 1e-15, `H(${p}) = ${normalisedEntropy(p)}, expected ${entropy}`);
      assert.ok(Math.abs(margin(p) - gap) < 1e-15, `margin(${p}) = ${margin(p)}, expected ${gap}`);
    }
  });

  test("a document scores by the mean of its k least certain words", () => {
    const words = [
      [1, 0, 0, 0], // 0
      [0.25, 0.25, 0.25, 0.25], // 1
      [0.5, 0.5, 0, 0], // 0.5
      [0.7, 0.1, 0.1, 0.1], // 0.6783898247235197
    ];
    assert.ok(Math.abs(informativeness(words, 2) - 0.8391949123617599) < 1e-15);
    assert.ok(Math.abs(informativeness(words, 10) - (1 + 0.5 + 0.6783898247235197) / 4) < 1e-15);
    assert.equal(informativeness([]), 0);
  });

  test("no bias toward long documents: 200 fairly certain words do not outrank 5 hard ones, as a plain sum would have them", () => {
    const long = Array.from({ length: 200 }, () => [0.97, 0.01, 0.01, 0.01]);
    const short = Array.from({ length: 5 }, () => [0.4, 0.3, 0.2, 0.1]);
    const sum = (ws: number[][]) => ws.reduce((s, w) => s + normalisedEntropy(w), 0);
    assert.ok(sum(long) > sum(short), "the premise: a sum ranks the long document first");
    assert.ok(informativeness(short) > 3 * informativeness(long), `${informativeness(short)} vs ${informativeness(long)}`);
  });
});

describe("word distributions", () => {
  const token = (start: number, isSubword: boolean, scores: number[]): TokenPrediction => ({ index: 0, token: "", start, end: start + 1, scores: Float32Array.from(scores), isSubword });

  test("first sub-tokens only, a word read by two windows gets the mean of its rows, texts without words an empty list", () => {
    const words = new WordDistributions();
    words.add(0, [token(0, false, [0.75, 0.25]), token(2, true, [0, 1]), token(5, false, [0.625, 0.375])]);
    // A second window that begins inside a word (a piece at 4), reads the word at 5 again, and one more.
    words.add(0, [token(4, true, [0, 1]), token(5, false, [0.375, 0.625]), token(9, false, [0.875, 0.125])]);
    const reported: [number, number[][]][] = [];
    words.report(2, (text, rows) => reported.push([text, rows.map((r) => [...r])]));
    assert.deepEqual(reported, [
      [0, [[0.75, 0.25], [0.5, 0.5], [0.875, 0.125]]],
      [1, []],
    ]);
  });

  test("the pipeline reports each word once, from the run that finds the entities (one model run), its row the first sub-token's probabilities", async () => {
    const pipeline = await loadPipeline(tinyModelDir("bert"));
    try {
      const text = "John Smith visited the Headquarters of Acme in Pittsburgh yesterday";
      let runs = 0;
      const logits = pipeline.logits.bind(pipeline);
      pipeline.logits = (windows, batchSize) => (runs++, logits(windows, batchSize));
      const rows: Float64Array[][] = [];
      const items = (await pipeline.run([text], { aggregation: "none", ignoreLabels: [], onWordDistributions: (i, r) => (rows[i] = r) }))[0] as TokenItem[];
      assert.equal(runs, 1);
      const firsts = items.filter((t) => !t.word.startsWith("##"));
      assert.equal(rows[0].length, firsts.length);
      assert.equal(firsts.length, text.split(" ").length);
      firsts.forEach((t, w) => {
        // The item's score is its label's probability, the largest of the row.
        assert.equal(Math.max(...rows[0][w]), t.score);
        assert.equal(pipeline.arch.labels[rows[0][w].indexOf(t.score)], t.label);
      });

      // A long text in overlapping windows of 8 tokens: still one row per word, each a distribution.
      const long = Array.from({ length: 12 }, () => text).join(" ");
      const longRows: Float64Array[][] = [];
      await pipeline.run([long, ""], { maxLength: 8, stride: 3, onWordDistributions: (i, r) => (longRows[i] = r) });
      assert.equal(longRows[0].length, 12 * firsts.length);
      for (const row of longRows[0]) assert.ok(Math.abs(row.reduce((s, p) => s + p, 0) - 1) < 1e-6);
      assert.deepEqual(longRows[1], []);

      const [scored] = await readScoredTexts(pipeline, [text]);
      assert.equal(scored.informativeness, informativeness(rows[0]));
    } finally {
      await pipeline.close();
    }
  });
});

describe("MinHash", () => {
  const base = "the quarterly report from acme corporation was released on monday morning in berlin by the board";
  test("the estimate is within three standard errors of the exact Jaccard similarity", () => {
    const variants = [
      base,
      base.replace("monday", "friday"),
      base.replace("acme corporation", "globex industries"),
      `${base.split(" ").slice(0, 9).join(" ")} and then nothing else happened that week in any city at all`,
      "an entirely different sentence about rivers mountains and the weather in spring",
    ];
    for (const a of variants) {
      for (const b of variants) {
        const exact = jaccard(a, b);
        const estimate = similarity(minhash(a), minhash(b));
        const error = Math.sqrt((exact * (1 - exact)) / SIGNATURE_LENGTH);
        assert.ok(Math.abs(estimate - exact) <= Math.max(3 * error, 1 / SIGNATURE_LENGTH), `${estimate} vs ${exact}: ${a} / ${b}`);
      }
    }
    assert.equal(similarity(minhash(base), minhash(base.toUpperCase())), 1);
  });
});

describe("diversity step", () => {
  const texts: Record<string, string> = {
    A1: "Acme Corporation released its quarterly report on Monday morning in Berlin today",
    A2: "Acme Corporation released its quarterly report on Monday morning in Berlin again",
    A3: "Acme Corporation released its quarterly report on Monday morning in Berlin twice",
    B: "Rivers rise in spring when the snow melts on the mountains",
    C: "The orchestra played a new symphony by a young composer",
    D: "Two ministers met in Geneva to discuss fishing quotas",
    E: "A storm closed the harbour of Marseille for three days",
    F: "The library opened a reading room for children in May",
    G: "Farmers in Iowa expect a record harvest of corn",
  };
  const signatures = new Map(Object.entries(texts).map(([k, v]) => [k, minhash(v)]));
  const order = (items: string[], pinned: string[] = []) => diverseOrder(items, (k) => signatures.get(k)!, (k) => pinned.includes(k), { threshold: 0.5, window: 3 });

  test("near-duplicates are pushed back until the window no longer holds one; distinct documents keep their order", () => {
    assert.ok(similarity(signatures.get("A1")!, signatures.get("A2")!) > 0.5);
    assert.deepEqual(order(["A1", "A2", "A3", "B", "C", "D", "E", "F", "G"]), ["A1", "B", "C", "D", "A2", "E", "F", "G", "A3"]);
    assert.deepEqual(order(["B", "C", "D", "E", "F", "G"]), ["B", "C", "D", "E", "F", "G"]);
  });

  test("what is left at the end comes in its order; pinned (audit) documents are never pushed back", () => {
    assert.deepEqual(order(["A1", "A2", "B", "A3"]), ["A1", "B", "A2", "A3"]);
    assert.deepEqual(order(["A1", "A2", "A3", "B"], ["A2"]), ["A1", "A2", "B", "A3"]);
  });
});
