// `nerkit tokenizer train`: the WordPiece trainer against its slow oracle (table-driven cases and
// random corpora), against Hugging Face's own expectations (the BpeTrainer unit test of tokenizers,
// and the bert-cased fixture vocabulary that tokenizers' WordPieceTrainer trained on CoNLL-2003),
// the folder it writes (the fixture's tokenizer.json and config around a new vocabulary, loaded by
// loadTokenizer), and the real binary's exit codes and messages.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import { readCorpusFile } from "../src/data/corpus.js";
import { loadTokenizer } from "../src/text/tokenizers/index.js";
import { BERT_SPECIAL_ORDER, bertFolderFiles, trainBertTokenizer, writeBertFolder } from "../src/text/tokenizers/bert-folder.js";
import { trainWordPiece, trainWordPieceReference, type WordPieceTrainOptions } from "../src/text/tokenizers/train-wordpiece.js";
import { conllDir, fixturesDir, nerkit, readJson, tempDir } from "./helpers.js";

const options = (o: Partial<WordPieceTrainOptions> = {}): WordPieceTrainOptions => ({
  vocabSize: 1000,
  minFrequency: 2,
  limitAlphabet: 1000,
  specialTokens: BERT_SPECIAL_ORDER,
  continuingSubwordPrefix: "##",
  ...o,
});

const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));


/** The first `n` lines of the CoNLL-2003 training file, as a file of its own. */
function conllSample(n: number): string {
  const lines = readFileSync(join(conllDir, "train.conll"), "utf8").split("\n").slice(0, n);
  const path = join(tempDir(), "sample.conll");
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

// Hugging Face tokenizers, bpe/trainer.rs `test_train`: no prefix, min_frequency 2. Its expected
// vocabulary is the alphabet in code point order, then "re" (3 times), then "are" and "is" (both
// twice, "are" first because its pair (8, 22) sorts before (13, 18)).
test("the reference's BpeTrainer unit test: alphabet order, merges re, are, is, then min_frequency stops", () => {
  const words = counts({ roses: 1, are: 2, red: 1, voilets: 1, blue: 1, BERT: 1, is: 2, big: 1, and: 1, so: 1, "GPT-2": 1 });
  const trained = trainWordPiece(words, options({ vocabSize: 30000, specialTokens: [], continuingSubwordPrefix: "" }));
  const alphabet = ["-", "2", "B", "E", "G", "P", "R", "T", "a", "b", "d", "e", "g", "i", "l", "n", "o", "r", "s", "t", "u", "v"];
  assert.deepEqual(trained.vocab, [...alphabet, "re", "are", "is"]);
});

// One row per corpus: each exercises a choice of the trainer; the oracle recounts everything.
const CASES: [string, Record<string, number>, Partial<WordPieceTrainOptions>][] = [
  ["overlapping pairs (aaaa, aaa)", { aaaa: 3, aaa: 2, a: 1, baaa: 2 }, { minFrequency: 0 }],
  ["ties broken by the pair's ids", { ab: 2, cd: 2, ef: 2, abcd: 1 }, { minFrequency: 1 }],
  ["one token from two merges (##a+##bc, ##ab+##c)", { xabc: 2, yabc: 2, zab: 3, wbc: 3, abc: 1 }, { minFrequency: 1 }],
  ["a left-out character splits its word", { "ab\u00e9cd": 5, abcd: 1, x: 9, y: 9 }, { limitAlphabet: 5, minFrequency: 1 }],
  ["min frequency stops early", { hello: 1, help: 1, yellow: 3 }, { minFrequency: 3 }],
  ["vocabulary size stops", { the: 50, then: 20, there: 10, these: 5, other: 7 }, { vocabSize: 30 }],
  ["astral and CJK characters", { "😀😀x": 3, "東京": 2, "京😀": 2 }, { minFrequency: 1 }],
];

for (const [name, words, opts] of CASES) {
  test(`fast trainer equals the recount-everything oracle: ${name}`, () => {
    const fast = trainWordPiece(counts(words), options(opts));
    assert.deepEqual(fast, trainWordPieceReference(counts(words), options(opts)));
    assert.ok(fast.vocab.length <= options(opts).vocabSize);
  });
}

test("no merge spans a character left out of the alphabet", () => {
  const trained = trainWordPiece(counts({ "ab\u00e9cd": 5, x: 9, y: 9, abcd: 1 }), options({ limitAlphabet: 6, minFrequency: 1 }));
  assert.deepEqual(trained.droppedChars, ["\u00e9"]);
  assert.ok(trained.vocab.includes("ab") && trained.vocab.includes("##cd"), trained.vocab.join(" "));
  assert.ok(!trained.vocab.some((t) => /b#*c/.test(t) && t !== "abcd"), trained.vocab.join(" "));
});

test("fast trainer equals the oracle on random corpora", () => {
  const word = fc.stringMatching(/^[abc#é]{1,7}$/);
  fc.assert(
    fc.property(
      fc.dictionary(word, fc.integer({ min: 1, max: 6 }), { minKeys: 1, maxKeys: 12 }),
      fc.integer({ min: 5, max: 60 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 5 }),
      (dict, vocabSize, minFrequency, limitAlphabet) => {
        const o = options({ vocabSize, minFrequency, limitAlphabet, specialTokens: ["[UNK]"] });
        const run = (train: typeof trainWordPiece) => {
          try {
            return train(counts(dict), o);
          } catch (error) {
            if (error instanceof NerkitError) return error.message;
            throw error;
          }
        };
        assert.deepEqual(run(trainWordPiece), run(trainWordPieceReference));
      },
    ),
    { numRuns: 300 },
  );
});

// The bert-cased fixture was trained by tokenizers' BertWordPieceTokenizer (vocab 8000,
// min_frequency 2, limit_alphabet 1000) on CoNLL-2003 train and one extra line
// (fixtures/hf/make_fixtures.py). Its "##c" ids come in hash-map order, so equal-count merges can
// differ; the alphabet, the continuations and all but a handful of tokens must agree.
test("CoNLL-2003 train at 8000: alphabet and continuations equal tokenizers' fixture vocabulary, 99.8% of tokens shared", () => {
  const { corpus } = readCorpusFile(join(conllDir, "train.conll"));
  assert.equal(corpus.kind, "tokens");
  const texts = corpus.kind === "tokens" ? corpus.conll.sentences.flatMap((s) => s.tokens) : [];
  texts.push("Café Müller in São Paulo naïve résumé Zürich Kraków Ærø Łódź", "東京 北京 大阪 Ελλάδα Москва العربية हिन्दी");
  const ours = trainBertTokenizer(texts, { vocabSize: 8000, lowercase: false }).vocab;
  const theirs = readFileSync(join(fixturesDir, "hf", "bert-cased", "vocab.txt"), "utf8").split("\n").slice(0, -1);
  assert.equal(ours.length, 8000);
  const alphabetEnd = theirs.findIndex((t) => t.startsWith("##"));
  assert.deepEqual(ours.slice(0, alphabetEnd), theirs.slice(0, alphabetEnd), "specials and alphabet, in order");
  const continuations = (v: string[]) => v.filter((t) => t.startsWith("##") && [...t].length === 3).sort();
  assert.deepEqual(continuations(ours), continuations(theirs));
  const theirSet = new Set(theirs);
  const shared = ours.filter((t) => theirSet.has(t)).length;
  assert.ok(shared >= 7984, `only ${shared} of 8000 tokens shared with tokenizers' vocabulary`);
});

test("the folder is the fixture's tokenizer.json and config around the new vocabulary, and loads", () => {
  const trained = trainBertTokenizer(["Peter Blackburn visited Brussels .", "Blackburn said ."], { vocabSize: 60, lowercase: false, minFrequency: 1 });
  const dir = tempDir();
  writeBertFolder(dir, trained.files);
  const fixture = join(fixturesDir, "hf", "bert-cased");
  const withoutVocab = (json: { model: Record<string, unknown> }) => ({ ...json, model: { ...json.model, vocab: undefined } });
  assert.deepEqual(withoutVocab(readJson(join(dir, "tokenizer.json"))), withoutVocab(readJson(join(fixture, "tokenizer.json"))));
  const { backend: _backend, model_max_length: _max, ...config } = readJson<Record<string, unknown>>(join(fixture, "tokenizer_config.json"));
  assert.deepEqual(readJson(join(dir, "tokenizer_config.json")), { ...config, model_max_length: 512 });
  const vocab = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n").slice(0, -1);
  assert.deepEqual(vocab, trained.vocab);
  assert.deepEqual(Object.entries(readJson<{ model: { vocab: Record<string, number> } }>(join(dir, "tokenizer.json")).model.vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t), vocab);

  const tokenizer = loadTokenizer(dir);
  assert.deepEqual(
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((t) => tokenizer.tokenToId(t)),
    [0, 1, 2, 3, 4],
  );
  assert.equal(tokenizer.padTokenId, 0);
  const encoding = tokenizer.encode("Peter Blackburn visited Brussels.");
  assert.equal(encoding.ids[0], 2);
  assert.equal(encoding.ids.at(-1), 3);
  assert.ok(!encoding.ids.includes(1), encoding.tokens.join(" "));
  assert.deepEqual(tokenizer.encode("Peter Zorro").tokens.slice(2, -1), ["[UNK]"]); // "Z" is not in the alphabet
});

test("the first 2000 lines of CoNLL train: size respected, every training word encodes without [UNK], same bytes twice", () => {
  const sample = conllSample(2000);
  const [first, second] = [tempDir(), tempDir()];
  for (const out of [first, second]) {
    const run = nerkit(["tokenizer", "train", "--data", sample, "--vocab-size", "1000", "--out", out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /vocabulary: 1000 tokens \(5 special, \d+ characters/);
  }
  for (const file of ["tokenizer.json", "vocab.txt", "tokenizer_config.json"]) {
    assert.ok(readFileSync(join(first, file)).equals(readFileSync(join(second, file))), `${file} differs between runs`);
  }
  const tokenizer = loadTokenizer(first);
  assert.equal(tokenizer.vocabSize, 1000);
  const { corpus } = readCorpusFile(sample);
  const words = corpus.kind === "tokens" ? corpus.conll.sentences.flatMap((s) => s.tokens) : [];
  assert.ok(words.length > 1000);
  const unknown = words.filter((w) => tokenizer.encodeWords([w], { addSpecialTokens: false }).ids.includes(1));
  assert.deepEqual(unknown, []);
  // Word order does not matter: the same words in reverse give the same vocabulary.
  const reversed = trainBertTokenizer([...words].reverse(), { vocabSize: 1000, lowercase: false });
  assert.deepEqual(reversed.vocab, readFileSync(join(first, "vocab.txt"), "utf8").split("\n").slice(0, -1));
});

test("a character left out by the alphabet limit makes its words [UNK]; words of kept characters never are", () => {
  const texts = ["the cat sat on the mat", "the hat that sat", "a rat ate the oat", "xylophone"];
  const trained = trainBertTokenizer(texts, { vocabSize: 40, lowercase: false, limitAlphabet: 10, minFrequency: 1 });
  const dir = tempDir();
  writeBertFolder(dir, trained.files);
  const tokenizer = loadTokenizer(dir);
  const kept = new Set(trained.vocab.slice(5, 5 + trained.alphabetSize));
  for (const word of texts.join(" ").split(" ")) {
    const hasUnk = tokenizer.encodeWords([word], { addSpecialTokens: false }).ids.includes(1);
    assert.equal(hasUnk, ![...word].every((c) => kept.has(c)), word);
  }
  assert.equal(trained.alphabetSize, 10);
  assert.ok(trained.droppedChars.includes("x"));
});

test("--lowercase: an uncased vocabulary, do_lower_case, and accents stripped as BertNormalizer does", () => {
  const dir = tempDir();
  const data = join(dir, "docs.jsonl");
  writeFileSync(data, ['{"text": "Café MÜLLER in Zürich", "spans": []}', '{"text": "café müller in zurich", "spans": []}'].join("\n") + "\n");
  const out = join(dir, "tok");
  const run = nerkit(["tokenizer", "train", "--data", data, "--vocab-size", "60", "--lowercase", "--min-frequency", "1", "--out", out]);
  assert.equal(run.code, 0, run.stderr);
  const vocab = readFileSync(join(out, "vocab.txt"), "utf8").split("\n").slice(0, -1);
  assert.ok(!vocab.slice(5).some((t) => /[A-Zéü]/.test(t)), vocab.join(" "));
  assert.ok(vocab.includes("cafe") && vocab.includes("muller") && vocab.includes("zurich"), vocab.join(" "));
  assert.equal(readJson<{ do_lower_case: boolean }>(join(out, "tokenizer_config.json")).do_lower_case, true);
  assert.equal(readJson<{ normalizer: { lowercase: boolean } }>(join(out, "tokenizer.json")).normalizer.lowercase, true);
  assert.deepEqual(loadTokenizer(out).encode("CAFÉ Müller").tokens, ["[CLS]", "cafe", "muller", "[SEP]"]);
});

test("plain .txt lines and several files are read together", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "a.txt"), "alpha beta\ngamma\n");
  writeFileSync(join(dir, "b.txt"), "alpha delta\n");
  const out = join(dir, "tok");
  const run = nerkit(["tokenizer", "train", "--data", join(dir, "a.txt"), join(dir, "b.txt"), "--vocab-size", "60", "--min-frequency", "1", "--out", out]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /from 5 words \(4 distinct\)/);
  assert.deepEqual(loadTokenizer(out).encode("alpha delta").tokens, ["[CLS]", "alpha", "delta", "[SEP]"]);
});

test("bad input exits 2 with a message: a missing file, a vocabulary smaller than specials + alphabet", () => {
  const out = join(tempDir(), "tok");
  const missing = nerkit(["tokenizer", "train", "--data", "/no/such/train.conll", "--vocab-size", "100", "--out", out]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^nerkit: error: \/no\/such\/train\.conll: cannot read: no such file\n$/);
  const small = nerkit(["tokenizer", "train", "--data", conllSample(200), "--vocab-size", "20", "--out", out]);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /the vocabulary size 20 is smaller than the vocabulary before any merge: \d+ tokens \(5 special, \d+ characters/);
  assert.doesNotMatch(small.stderr, /at .*\.js/); // no stack trace
  const usage = nerkit(["tokenizer", "train", "--data", "x.txt", "--out", out]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--vocab-size/);
});

test("bertFolderFiles writes integer-like tokens in id order", () => {
  const files = bertFolderFiles([...BERT_SPECIAL_ORDER, "b", "1", "##9", "19"], { lowercase: false });
  const vocabText = files["tokenizer.json"].slice(files["tokenizer.json"].indexOf('"vocab": {'));
  const order = [...vocabText.matchAll(/^ {6}"[^"]*": (\d+)/gm)].map((m) => Number(m[1]));
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});
