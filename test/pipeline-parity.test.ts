// `loadPipeline(...).run` equals transformers' TokenClassificationPipeline on every case of
// ../shared/fixtures/hf/pipeline-cases.json: four tiny models, the five aggregation strategies on
// ten tricky texts, and the long text with a 64-token window and stride 16. Labels, words and
// offsets exactly (offsets converted from code points to UTF-16), scores to 3e-7 (measured: 3.0e-8
// at worst; the scores are near-uniform softmax probabilities, 0.115–0.154).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { AggregationStrategy } from "../src/infer/aggregation.js";
import { Entity, NerPipeline, PIPELINE_PARITY, TokenItem, loadPipeline } from "../src/infer/pipeline.js";
import { codePointToUtf16 } from "../src/text/offsets.js";
import { fixturesDir, readJson } from "./helpers.js";

interface HfEntity {
  entity?: string;
  entity_group?: string;
  score: number;
  word: string;
  start: number;
  end: number;
  index?: number;
}
type Cases = Record<string, Record<string, { text: string; entities: HfEntity[] }[] | { text: string; entities: HfEntity[] }>>;

const cases = readJson<Cases>(join(fixturesDir, "hf", "pipeline-cases.json"));
const STRATEGIES: AggregationStrategy[] = ["none", "simple", "first", "average", "max"];

function compare(text: string, actual: (Entity | TokenItem)[], expected: HfEntity[], label: string): void {
  const toUtf16 = codePointToUtf16(text);
  const got = actual.map((e) => ({
    label: "label" in e ? e.label : e.type,
    word: e.word,
    start: e.start,
    end: e.end,
    index: "index" in e ? e.index : undefined,
  }));
  const want = expected.map((e) => ({ label: e.entity ?? e.entity_group, word: e.word, start: toUtf16(e.start), end: toUtf16(e.end), index: e.index }));
  assert.deepEqual(got, want, label);
  actual.forEach((e, i) => assert.ok(Math.abs(e.score - expected[i].score) < 3e-7, `${label}: score of item ${i}: ${e.score} vs ${expected[i].score}`));
}

for (const kind of ["bert", "distilbert", "roberta", "xlmr"]) {
  let pipeline: NerPipeline;
  before(async () => {
    pipeline = await loadPipeline(join(fixturesDir, "hf", `${kind}-tiny`), { threads: 1 });
  });
  after(async () => pipeline?.close());

  for (const strategy of STRATEGIES) {
    test(`${kind}: aggregation ${strategy} on the ten texts`, async () => {
      const list = cases[kind][strategy] as { text: string; entities: HfEntity[] }[];
      const results = await pipeline.run(list.map((c) => c.text), { aggregation: strategy });
      list.forEach((c, i) => compare(c.text, results[i], c.entities, `${kind} ${strategy} ${JSON.stringify(c.text)}`));
    });
  }

  test(`${kind}: long text, window 64, stride 16`, async () => {
    const c = cases[kind].long_simple_max64_stride16 as { text: string; entities: HfEntity[] };
    // The pipeline's own windows (PIPELINE_PARITY.windows): nerkit's default reads the whole text.
    const [result] = await pipeline.run([c.text], { aggregation: "simple", windows: PIPELINE_PARITY.windows, maxLength: 64, stride: 16 });
    compare(c.text, result, c.entities, `${kind} long`);
  });
}
