// A long text tokenized in slices (src/infer/sliced-encoding.ts) gives exactly what tokenizing it
// whole gives, for every fixture tokenizer whose tokens never cross whitespace; the others (byte-level
// BPE, Metaspace) are recognised and left to the one-piece encoding.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { encodeInSlices, slicesAtWhitespace } from "../src/infer/sliced-encoding.js";
import { readTokenizerFiles, tokenizerFromFiles } from "../src/text/tokenizers/index.js";
import { conllDir, fixturesDir } from "./helpers.js";

/** CoNLL dev words as running text, with what normalizers treat specially mixed in. */
function longText(): string {
  const words = readFileSync(join(conllDir, "dev.conll"), "utf8")
    .split("\n")
    .slice(0, 12_000)
    .map((line) => line.split(" ")[0])
    .filter((w) => w !== "" && w !== "-DOCSTART-");
  const extras = ["Müller", "e\u0301te", "東京都", "naïve", "\u0000", "\t", "  ", "\n\n", "[UNK]", "café.", "\u00a0", "x\u200bz", "Ω≈ç√"];
  return words.map((w, i) => (i % 17 === 0 ? `${w} ${extras[i % extras.length]}` : w)).join(" ");
}

const noPause = async () => {};

for (const dir of ["bert-tiny", "bert-cased", "bert-uncased", "distilbert-tiny"]) {
  test(`${dir}: the text encoded in slices equals the text encoded whole`, async () => {
    const files = readTokenizerFiles(join(fixturesDir, "hf", dir), { flavor: "transformers" });
    assert.equal(slicesAtWhitespace(files.json as Record<string, unknown>), true);
    const tokenizer = tokenizerFromFiles(files);
    const text = longText();
    const whole = tokenizer.encode(text, { addSpecialTokens: false });
    assert.ok(whole.ids.length > 10_000, `only ${whole.ids.length} tokens`);
    for (const size of [4096, 301, 7]) {
      const sliced = await encodeInSlices(tokenizer, text, noPause, size);
      assert.deepEqual(sliced.ids, whole.ids, `ids, slices of ${size}`);
      assert.deepEqual(sliced.tokens, whole.tokens, `tokens, slices of ${size}`);
      assert.deepEqual(sliced.offsets, whole.offsets, `offsets, slices of ${size}`);
      // Word indices are compared for equality only (hf windows end at a word's end): same partition.
      const sameWord = (w: (number | null)[]) => w.slice(1).map((x, k) => x !== null && x === w[k]);
      assert.deepEqual(sameWord(sliced.wordIds), sameWord(whole.wordIds), `words, slices of ${size}`);
    }
  });
}

test("byte-level and Metaspace tokenizers are not sliced (the space belongs to the next token)", () => {
  for (const dir of ["roberta-tiny", "xlmr-tiny", "roberta", "xlmr"]) {
    const files = readTokenizerFiles(join(fixturesDir, "hf", dir), { flavor: "transformers" });
    assert.equal(slicesAtWhitespace(files.json as Record<string, unknown>), false, dir);
  }
});
