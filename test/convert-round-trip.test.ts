// Round trips of `nerkit convert`: CoNLL-2003's training file through span JSON lines and back is
// byte for byte the same file (-DOCSTART- lines included, kept as "document_start"); and whatever
// words a span file holds, the CoNLL that convert writes reads back into the same words and tags,
// because the writer, the word tokenizer and the column scanner share one definition of column
// whitespace (src/text/column-whitespace.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { main } from "../src/cli/main.js";
import { formatConll, parseConll } from "../src/data/conll.js";
import { parseCorpus, toTokenSentences } from "../src/data/corpus.js";
import { SCHEMES } from "../src/data/schemes.js";
import { formatSpanJsonl } from "../src/data/span-formats.js";
import { tokenizeWords } from "../src/text/word-tokenizer.js";
import { conllDir, nerkitError, tempDir } from "./helpers.js";

async function convert(argv: string[]): Promise<void> {
  let stderr = "";
  const code = await main(["convert", ...argv], { stdout: () => undefined, stderr: (text) => void (stderr += text) });
  assert.equal(code, 0, stderr);
}

test("CoNLL-2003 train -> JSONL -> CoNLL is byte-identical, -DOCSTART- lines included", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = join(conllDir, "train.conll");
  const jsonl = join(dir, "train.jsonl");
  const back = join(dir, "back.conll");
  await convert([source, "--to", "jsonl", "-o", jsonl]);
  await convert([jsonl, "--to", "conll", "-o", back]);
  const original = readFileSync(source);
  const docstarts = original.toString("utf8").split("\n").filter((line) => line.startsWith("-DOCSTART-")).length;
  assert.equal(docstarts, 946);
  assert.equal(readFileSync(jsonl, "utf8").split("\n").filter((line) => line.includes('"document_start":true')).length, docstarts);
  assert.ok(readFileSync(back).equals(original), "the round trip changed the file");
});

test("a document boundary on a span document without words moves to the next sentence", () => {
  const jsonl = ['{"text": "  ", "spans": [], "document_start": true}', '{"text": "Hi there", "spans": []}', '{"text": "Bye", "spans": [], "document_start": true}'].join("\n");
  const conll = formatConll(toTokenSentences(parseCorpus(jsonl, { format: "jsonl" }).corpus, SCHEMES.IOB2));
  assert.equal(conll, "-DOCSTART- O\n\nHi O\nthere O\n\n-DOCSTART- O\n\nBye O\n\n");
  const error = nerkitError(() => parseCorpus('{"text": "a", "spans": [], "document_start": "yes"}', { format: "jsonl", file: "in.jsonl" }), "E_FORMAT");
  assert.equal(error.describe(), 'in.jsonl:1: document_start: expected true or false, found "yes"');
});

// Characters JavaScript's \s and Python's str.split() disagree on, and a few that both call space.
const TRICKY = ["\u001c", "\u001d", "\u001e", "\u001f", "\u0085", "\ufeff", "\u00a0", "\u2028", "\u200b", "\u180e", " ", "\t", "\r", "\v", "\f"];
const piece = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: "binary", maxLength: 4 }), fc.string({ unit: "grapheme-ascii", maxLength: 4 }));

test("span file -> CoNLL -> read back gives the same words and tags, for arbitrary Unicode words", () => {
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.nat(), (pieces, pick) => {
      const text = pieces.join("");
      const words = tokenizeWords(text);
      // One labelled span on a word, when there is one, so tags are not all O.
      const spans = words.length === 0 ? [] : [{ start: words[pick % words.length].start, end: words[pick % words.length].end, label: "X" }];
      const { corpus } = parseCorpus(formatSpanJsonl([{ text, spans }]), { format: "jsonl", file: "in.jsonl" });
      const sentences = toTokenSentences(corpus, SCHEMES.IOB2);
      const conll = formatConll(sentences);
      const read = parseConll(conll, { file: "out.conll" });
      assert.deepEqual(read.sentences.map((s) => s.tokens), sentences.sentences.map((s) => s.tokens));
      assert.deepEqual(read.sentences.map((s) => s.tags), sentences.sentences.map((s) => s.tags));
      assert.deepEqual(read.sentences.flatMap((s) => s.tokens), words.map((w) => w.text));
    }),
    { numRuns: 500, seed: 7 },
  );
});

test("a given token CoNLL cannot hold (whitespace inside, as Prodigy tokens may have) is an error naming the line", async (t) => {
  for (const [space, code] of [[" ", "0020"], ["\u001c", "001C"], ["\u0085", "0085"]]) {
    const text = `New${space}York`;
    const record = { text, spans: [{ start: 0, end: text.length, label: "LOC" }], tokens: [{ text, start: 0, end: text.length }] };
    const { corpus } = parseCorpus(`{"text": "x", "spans": []}\n${JSON.stringify(record)}\n`, { format: "jsonl", file: "in.jsonl" });
    const error = nerkitError(() => formatConll(toTokenSentences(corpus, SCHEMES.IOB2), { source: "in.jsonl" }), "E_FORMAT");
    assert.equal(error.describe(), `in.jsonl:2: cannot write the token ${JSON.stringify(text)} as CoNLL: it holds U+${code}, which separates CoNLL columns`);
  }
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "label.jsonl");
  writeFileSync(file, JSON.stringify({ text: "a b", spans: [{ start: 0, end: 1, label: "P\u001cQ" }] }) + "\n");
  let stderr = "";
  const code = await main(["convert", file, "--to", "conll"], { stdout: () => undefined, stderr: (text) => void (stderr += text) });
  assert.equal(code, 2);
  assert.match(stderr, /label\.jsonl:1: span \[0, 1\) 'P\u001cQ': the label must be a non-empty string without spaces/);
});
