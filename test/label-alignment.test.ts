// alignLabels and encodeWords against transformers' own batch in ../shared/fixtures/hf/model-cases.json:
// per model kind, the 4-sentence batch's input_ids (compared without padding; attention_mask gives
// each length) and the token labels of the NER recipe (first sub-token labelled, the rest -100),
// with label ids from that model's config.json label2id; the padded tail must be -100 / the pad id.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { alignLabels, IGNORE_INDEX, loadTokenizer, type Encoding } from "../src/text/tokenizers/index.js";
import { fixturesDir, readJson } from "./helpers.js";
import { modelCases } from "./model-cases.js";


const hfDir = join(fixturesDir, "hf");

for (const [kind, m] of Object.entries(modelCases)) {
  test(`${kind}: encodeWords + alignLabels reproduce transformers' input_ids and labels`, () => {
    const tokenizer = loadTokenizer(join(hfDir, m.dir));
    const { label2id } = readJson<{ label2id: Record<string, number> }>(join(hfDir, m.dir, "config.json"));
    assert.equal(m.words.length, 4);
    m.words.forEach((words, i) => {
      const length = m.attention_mask[i].reduce((a, b) => a + b, 0);
      const encoding = tokenizer.encodeWords(words);
      assert.deepEqual(encoding.ids, m.input_ids[i].slice(0, length), `sentence ${i}: ids`);
      assert.ok(m.input_ids[i].slice(length).every((id) => id === tokenizer.padTokenId), `sentence ${i}: padding is the pad id`);
      if (m.token_type_ids) assert.deepEqual(encoding.typeIds, m.token_type_ids[i].slice(0, length), `sentence ${i}: type ids`);
      const labels = alignLabels(encoding, m.tags[i].map((tag) => label2id[tag]));
      assert.deepEqual(labels, m.labels[i].slice(0, length), `sentence ${i}: labels`);
      assert.ok(m.labels[i].slice(length).every((label) => label === IGNORE_INDEX), `sentence ${i}: padded labels are -100`);
    });
  });
}

const ALIGN_ROWS: { name: string; wordIds: (number | null)[]; labels: number[]; all: boolean; expected: number[] }[] = [
  { name: "first sub-token only", wordIds: [null, 0, 0, 1, null], labels: [3, 4], all: false, expected: [-100, 3, -100, 4, -100] },
  { name: "every sub-token", wordIds: [null, 0, 0, 1, null], labels: [3, 4], all: true, expected: [-100, 3, 3, 4, -100] },
  { name: "no special tokens", wordIds: [0, 1, 1, 1], labels: [7, 8], all: false, expected: [7, 8, -100, -100] },
  { name: "empty encoding", wordIds: [], labels: [], all: false, expected: [] },
];

for (const row of ALIGN_ROWS) {
  test(`alignLabels: ${row.name}`, () => {
    const n = row.wordIds.length;
    const encoding: Encoding = {
      ids: new Array(n).fill(0),
      tokens: new Array(n).fill(""),
      offsets: new Array(n).fill([0, 0]),
      wordIds: row.wordIds,
      typeIds: new Array(n).fill(0),
      specialTokensMask: row.wordIds.map((w) => (w === null ? 1 : 0)),
    };
    assert.deepEqual(alignLabels(encoding, row.labels, { labelAllSubtokens: row.all }), row.expected);
  });
}

test("alignLabels rejects fewer labels than words", () => {
  const encoding: Encoding = { ids: [0, 0], tokens: ["", ""], offsets: [[0, 0], [0, 0]], wordIds: [0, 1], typeIds: [0, 0], specialTokensMask: [0, 0] };
  assert.throws(() => alignLabels(encoding, [1]), { name: "NerkitError", code: "E_MISMATCH" });
});
