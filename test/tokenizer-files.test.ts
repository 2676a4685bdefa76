// A tokenizer folder is read and parsed once per load: loadPipeline reads tokenizer.json a single
// time (it was read twice: for the tokenizer, then again for the decoder and subword prefix), and
// the extras it derives from the parsed files are the ones each fixture family needs.

import assert from "node:assert/strict";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { basename, join } from "node:path";
import { test } from "node:test";
import { loadPipeline } from "../src/infer/pipeline.js";
import { tokenizerExtras } from "../src/infer/tokenizer-extras.js";
import { readTokenizerFiles } from "../src/text/tokenizers/index.js";
import { fixturesDir } from "./helpers.js";

const hfDir = join(fixturesDir, "hf");

test("loadPipeline reads tokenizer.json once", async () => {
  const reads: string[] = [];
  const original = fs.readFileSync;
  fs.readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    if (typeof args[0] === "string" && basename(args[0]) === "tokenizer.json") reads.push(args[0]);
    return original(...args);
  }) as typeof fs.readFileSync;
  syncBuiltinESMExports();
  try {
    const pipeline = await loadPipeline(join(hfDir, "bert-tiny"));
    await pipeline.close();
  } finally {
    fs.readFileSync = original;
    syncBuiltinESMExports();
  }
  assert.deepEqual(reads, [join(hfDir, "bert-tiny", "tokenizer.json")]);
});

test("extras from the parsed files: WordPiece marks continuations with ##, BPE and Unigram do not; RoBERTa keeps the first token's space", () => {
  const rows = [
    { dir: "bert-tiny", prefix: "##", keepsFirstTokenSpace: false },
    { dir: "distilbert-tiny", prefix: "##", keepsFirstTokenSpace: false },
    { dir: "roberta-tiny", prefix: undefined, keepsFirstTokenSpace: true },
    { dir: "xlmr-tiny", prefix: undefined, keepsFirstTokenSpace: false },
  ];
  for (const row of rows) {
    const extras = tokenizerExtras(readTokenizerFiles(join(hfDir, row.dir), { flavor: "transformers" }));
    assert.equal(extras.continuingSubwordPrefix, row.prefix, row.dir);
    assert.equal(extras.keepsFirstTokenSpace, row.keepsFirstTokenSpace, row.dir);
  }
});
