// Parity with Hugging Face tokenizers 0.23 / transformers 5 on ../shared/fixtures/hf: every case of
// tokenizer-cases.json through bert-cased, bert-uncased, roberta and xlmr (ids, tokens, word ids and
// offsets, the fixture's code-point offsets converted to UTF-16), the vocab.txt-only BERT load
// against the tokenizer.json load, and the tiny model folders. Behaviour the fixtures do not cover
// (added tokens inside text, their flags, Precompiled, lone surrogates, errors) is checked against
// the reference's own documented expectations (tokenizers' added_vocabulary tests and the
// charsmap format of spm_precompiled), never against nerkit's output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NerkitError } from "../src/errors.js";
import { codePointToUtf16 } from "../src/text/offsets.js";
import { loadTokenizer, tokenizerFromJson, type Encoding, type Tokenizer } from "../src/text/tokenizers/index.js";
import { wordPieceJsonFromVocab } from "../src/text/tokenizers/load.js";
import { Charsmap } from "../src/text/tokenizers/precompiled.js";
import { fixturesDir, readJson, tempDir } from "./helpers.js";

const hfDir = join(fixturesDir, "hf");
const NAMES = ["bert-cased", "bert-uncased", "roberta", "xlmr"] as const;
type Name = (typeof NAMES)[number];

interface Expected {
  input_ids: number[];
  tokens: string[];
  offsets: [number, number][];
  word_ids: (number | null)[];
}
type Case = { text?: string; words?: string[] } & Record<Name, Expected>;

const cases = readJson<Case[]>(join(hfDir, "tokenizer-cases.json"));
const tokenizers = new Map<Name, Tokenizer>(NAMES.map((name) => [name, loadTokenizer(join(hfDir, name))]));

function encodeCase(tokenizer: Tokenizer, c: Case): Encoding {
  return c.words ? tokenizer.encodeWords(c.words) : tokenizer.encode(c.text!);
}

/** The fixture's view of one case, offsets converted from code points to UTF-16 (per word for pre-split words). */
function expectedView(c: Case, expected: Expected) {
  const offsets = expected.offsets.map(([s, e], i): [number, number] => {
    const word = expected.word_ids[i];
    const source = c.words ? (word === null ? "" : c.words[word]) : c.text!;
    const toUtf16 = codePointToUtf16(source);
    return [toUtf16(s), toUtf16(e)];
  });
  return { ids: expected.input_ids, tokens: expected.tokens, wordIds: expected.word_ids, offsets };
}

const view = (e: Encoding) => ({ ids: e.ids, tokens: e.tokens, wordIds: e.wordIds, offsets: e.offsets });

test("the fixture has 215 cases", () => {
  assert.equal(cases.length, 215);
});

for (const name of NAMES) {
  test(`${name}: every fixture case matches tokenizers (ids, tokens, word ids, offsets)`, () => {
    const tokenizer = tokenizers.get(name)!;
    let passed = 0;
    for (const [index, c] of cases.entries()) {
      const label = `case ${index} ${JSON.stringify(c.text ?? c.words)}`;
      const encoding = encodeCase(tokenizer, c);
      const expected = expectedView(c, c[name]);
      assert.deepEqual(view(encoding), expected, label);
      // No fixture text holds an added token, so exactly the null-word tokens are the added specials.
      assert.deepEqual(encoding.specialTokensMask, expected.wordIds.map((w) => (w === null ? 1 : 0)), `${label}: special tokens mask`);
      const bare = c.words ? tokenizer.encodeWords(c.words, { addSpecialTokens: false }) : tokenizer.encode(c.text!, { addSpecialTokens: false });
      const keep = (_: unknown, i: number) => expected.wordIds[i] !== null;
      const withoutSpecials = {
        ids: expected.ids.filter(keep),
        tokens: expected.tokens.filter(keep),
        wordIds: expected.wordIds.filter(keep),
        offsets: expected.offsets.filter(keep),
      };
      assert.deepEqual(view(bare), withoutSpecials, `${label}: without special tokens`);
      passed++;
    }
    assert.equal(passed, 215);
  });
}

for (const name of ["bert-cased", "bert-uncased"] as const) {
  test(`${name}: vocab.txt + tokenizer_config.json gives the same encodings as tokenizer.json`, () => {
    const config = readJson<Record<string, unknown>>(join(hfDir, name, "tokenizer_config.json"));
    const fromVocab = tokenizerFromJson(wordPieceJsonFromVocab(readFileSync(join(hfDir, name, "vocab.txt"), "utf8"), config), config);
    const fromJson = tokenizers.get(name)!;
    for (const [index, c] of cases.entries()) {
      assert.deepEqual(encodeCase(fromVocab, c), encodeCase(fromJson, c), `case ${index}`);
    }
    assert.equal(fromVocab.vocabSize, fromJson.vocabSize);
    assert.deepEqual(fromVocab.specialTokens, fromJson.specialTokens);
    assert.equal(fromVocab.padTokenId, fromJson.padTokenId);
  });

  test(`${name}: loadTokenizer falls back to vocab.txt when a folder has no tokenizer.json`, () => {
    const dir = tempDir("nerkit-vocab-");
    for (const file of ["vocab.txt", "tokenizer_config.json"]) copyFileSync(join(hfDir, name, file), join(dir, file));
    const c = cases[3];
    assert.deepEqual(encodeCase(loadTokenizer(dir), c), encodeCase(tokenizers.get(name)!, c));
  });
}

const TINY = [
  // [folder, special tokens it must know]
  ["bert-tiny", { cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]" }],
  ["distilbert-tiny", { cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]" }],
  ["roberta-tiny", { cls: "<s>", sep: "</s>", pad: "<pad>", unk: "<unk>", mask: "<mask>", bos: "<s>", eos: "</s>" }],
  ["xlmr-tiny", { cls: "<s>", sep: "</s>", pad: "<pad>", unk: "<unk>", mask: "<mask>", bos: "<s>", eos: "</s>" }],
] as const;

for (const [folder, specials] of TINY) {
  test(`${folder} loads with its config's vocabulary size and pad id`, () => {
    const tokenizer = loadTokenizer(join(hfDir, folder));
    const config = readJson<{ vocab_size: number; pad_token_id: number }>(join(hfDir, folder, "config.json"));
    assert.equal(tokenizer.vocabSize, config.vocab_size);
    assert.equal(tokenizer.padTokenId, config.pad_token_id);
    assert.deepEqual(tokenizer.specialTokens, specials);
    for (const token of Object.values(specials)) assert.equal(tokenizer.idToToken(tokenizer.tokenToId(token)!), token);
  });
}

// ── Added tokens inside text ────────────────────────────────────────────────────────────────────

test("bert-cased: [MASK] inside text is one token, its own word, with its own offsets", () => {
  const tokenizer = tokenizers.get("bert-cased")!;
  const text = "Paris is the [MASK] of France.";
  const encoding = tokenizer.encode(text);
  const at = encoding.ids.indexOf(tokenizer.tokenToId("[MASK]")!);
  assert.deepEqual(encoding.offsets[at], [13, 19]);
  assert.equal(encoding.specialTokensMask[at], 0); // only the post-processor's tokens are marked
  // The words around it are pre-tokenized as they would be alone, and word ids count on through it.
  const before = tokenizer.encode("Paris is the", { addSpecialTokens: false });
  assert.deepEqual(encoding.tokens.slice(1, at), before.tokens);
  assert.equal(encoding.wordIds[at], 3);
  assert.equal(encoding.wordIds[at + 1], 4);
});

test("roberta: <mask> inside text is one token and its own word", () => {
  const tokenizer = tokenizers.get("roberta")!;
  const encoding = tokenizer.encode("Hello <mask>!");
  const at = encoding.ids.indexOf(tokenizer.tokenToId("<mask>")!);
  assert.ok(at > 0);
  assert.deepEqual(encoding.offsets[at], [6, 12]);
  assert.notEqual(encoding.wordIds[at], encoding.wordIds[at - 1]);
  assert.notEqual(encoding.wordIds[at], encoding.wordIds[at + 1]);
});

/** A WordPiece tokenizer.json with a Lowercase normalizer, whitespace splitting and `added` tokens. */
function tinyTokenizer(vocab: string[], added: Record<string, unknown>[]): Tokenizer {
  return tokenizerFromJson({
    added_tokens: added,
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: null,
    model: { type: "WordPiece", unk_token: "[UNK]", vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  });
}

const token = (id: number, content: string, flags: Record<string, boolean> = {}) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: true,
  special: false,
  ...flags,
});

// Rows follow tokenizers' own added_vocabulary tests (options_use_cases, test_single_word_is_correct,
// test_single_word_is_unicode_correct, test_lstrip_unicode_space): the splits they expect, as
// tokens and original offsets.
const ADDED_ROWS: { name: string; text: string; added: Record<string, unknown>[]; expected: [string, [number, number]][] }[] = [
  {
    name: "lstrip/rstrip take the spaces; normalized tokens match lowercased text; single_word skips inside words",
    text: "[CLS] My name is Anthony [SEP]",
    added: [
      token(10, "my", { lstrip: true, rstrip: true }),
      token(11, "name"),
      token(12, "ony", { single_word: true }),
      token(13, "[CLS]", { special: true, normalized: false }),
      token(14, "[SEP]", { special: true, normalized: false }),
    ],
    expected: [["[CLS]", [0, 5]], ["my", [5, 9]], ["name", [9, 13]], ["is", [14, 16]], ["anthony", [17, 24]], ["[SEP]", [25, 30]]],
  },
  {
    name: "single_word: only whole words match",
    text: "<mask> My name <mask> A<mask> <mask>ony <mask>",
    added: [token(10, "<mask>", { single_word: true })],
    expected: [["<mask>", [0, 6]], ["my", [7, 9]], ["name", [10, 14]], ["<mask>", [15, 21]], ["[UNK]", [22, 29]], ["[UNK]", [30, 39]], ["<mask>", [40, 46]]],
  },
  {
    name: "single_word: punctuation is not a word character, a combining mark is",
    text: "<mask>, <mask>- \u25cc\u0330<mask>",
    added: [token(10, "<mask>", { single_word: true })],
    expected: [["<mask>", [0, 6]], [",", [6, 7]], ["<mask>", [8, 14]], ["-", [14, 15]], ["[UNK]", [16, 24]]],
  },
  {
    name: "lstrip/rstrip take any Unicode whitespace",
    text: "Hi <mask> there\t<mask>\t<mask>\u2000",
    added: [token(10, "<mask>", { lstrip: true, rstrip: true, single_word: true })],
    expected: [["hi", [0, 2]], ["<mask>", [2, 10]], ["there", [10, 15]], ["<mask>", [15, 23]], ["<mask>", [23, 30]]],
  },
];

for (const row of ADDED_ROWS) {
  test(`added tokens: ${row.name}`, () => {
    const tokenizer = tinyTokenizer(["[UNK]", "is", "anthony", "my", "name", "hi", "there", ",", "-"], row.added);
    const encoding = tokenizer.encode(row.text);
    assert.deepEqual(
      encoding.tokens.map((t, i) => [t, encoding.offsets[i]]),
      row.expected,
    );
  });
}

// ── Precompiled (SentencePiece charsmap) ────────────────────────────────────────────────────────

/**
 * A charsmap in SentencePiece's format: [u32 trie bytes][Darts double array over UTF-8][strings\0].
 * A node's unit holds (offset to its children's base) << 10 | has-leaf << 8 | label; a leaf unit at
 * the base holds the string's index with bit 31 set. Bases are chosen greedily.
 */
function buildCharsmap(rules: [string, string][]): Uint8Array {
  interface Node {
    children: Map<number, Node>;
    value?: number;
  }
  const root: Node = { children: new Map() };
  const strings: number[] = [];
  for (const [from, to] of rules) {
    let node = root;
    for (const byte of new TextEncoder().encode(from)) {
      if (!node.children.has(byte)) node.children.set(byte, { children: new Map() });
      node = node.children.get(byte)!;
    }
    node.value = strings.length;
    strings.push(...new TextEncoder().encode(to), 0);
  }
  const units: number[] = [];
  const used = new Set<number>([0]);
  const place = (node: Node, position: number, label: number) => {
    let base = 1;
    const free = (b: number) =>
      (node.value === undefined || !used.has(b)) && [...node.children.keys()].every((c) => (b ^ c) !== 0 && !used.has(b ^ c));
    while (!free(base)) base++;
    if (node.value !== undefined) used.add(base);
    for (const c of node.children.keys()) used.add(base ^ c);
    units[position] = (((position ^ base) << 10) | (node.value !== undefined ? 1 << 8 : 0) | label) >>> 0;
    if (node.value !== undefined) units[base] = (node.value | 0x80000000) >>> 0;
    for (const [c, child] of node.children) place(child, base ^ c, c);
  };
  place(root, 0, 0);
  const trie = Array.from({ length: units.length }, (_, k) => units[k] ?? 0);
  const bytes = new Uint8Array(4 + trie.length * 4 + strings.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, trie.length * 4, true);
  trie.forEach((unit, k) => view.setUint32(4 + 4 * k, unit, true));
  bytes.set(strings, 4 + trie.length * 4);
  return bytes;
}

const RULES: [string, string][] = [
  ["\ufb01", "fi"], // one character to two
  ["\uff21", "A"], // fullwidth to ASCII
  ["e\u0301", "\u00e9"], // a two-character grapheme to one character
  ["a", "1"],
  ["ab", "2"], // a longer key sharing a prefix: the shortest known prefix wins
  ["\u200d", " "],
];

test("Precompiled: the charsmap lookup takes the shortest known prefix", () => {
  const charsmap = new Charsmap(buildCharsmap(RULES));
  assert.equal(charsmap.transform("\ufb01"), "fi");
  assert.equal(charsmap.transform("ab"), "1");
  assert.equal(charsmap.transform("b"), undefined);
  assert.equal(charsmap.transform("e\u0301"), "\u00e9");
});

test("Precompiled: offsets follow the reference's change list through a tokenizer", () => {
  const charsmap = Buffer.from(buildCharsmap(RULES)).toString("base64");
  const tokenizer = tokenizerFromJson({
    normalizer: { type: "Precompiled", precompiled_charsmap: charsmap },
    pre_tokenizer: { type: "WhitespaceSplit" },
    model: { type: "WordPiece", unk_token: "[UNK]", vocab: { "[UNK]": 0, fi: 1, "##A": 2, "\u00e9": 3, "##1": 4 } },
  });
  // "ﬁＡ" → "fiA": f and i both come from ﬁ; "é" (e + ◌́) → é aligned to e alone, as the reference's
  // change list (é replaces e, the mark is dropped) makes it.
  const encoding = tokenizer.encode("\ufb01\uff21 e\u0301");
  assert.deepEqual(encoding.tokens, ["fi", "##A", "\u00e9"]);
  assert.deepEqual(encoding.offsets, [[0, 1], [1, 2], [3, 4]]);
});

// ── Lone surrogates and errors ──────────────────────────────────────────────────────────────────

for (const name of NAMES) {
  test(`${name}: lone UTF-16 surrogates do not crash and offsets stay inside the text`, () => {
    const tokenizer = tokenizers.get(name)!;
    for (const text of ["a\ud800b", "\udc00", "x \ud83d", "\ud83d\ude00\ud83d"]) {
      const encoding = tokenizer.encode(text);
      assert.equal(encoding.ids.length, encoding.tokens.length);
      for (const [s, e] of encoding.offsets) assert.ok(0 <= s && s <= e && e <= text.length, `${JSON.stringify(text)}: [${s}, ${e}]`);
    }
    assert.doesNotThrow(() => tokenizer.encodeWords(["\ud800", "ok"]));
  });
}

const ERROR_ROWS: { name: string; json: unknown; code: string; mentions: string }[] = [
  { name: "not an object", json: "tokenizer", code: "E_FORMAT", mentions: "tokenizer.json" },
  { name: "no model", json: {}, code: "E_FORMAT", mentions: "model" },
  { name: "unknown model type", json: { model: { type: "WordLevel", vocab: {} } }, code: "E_FORMAT", mentions: "WordLevel" },
  {
    name: "unknown normalizer",
    json: { normalizer: { type: "ByteLevel" }, model: { type: "WordPiece", vocab: { "[UNK]": 0 } } },
    code: "E_FORMAT",
    mentions: "ByteLevel",
  },
  {
    name: "unreadable Precompiled charsmap",
    json: { normalizer: { type: "Precompiled", precompiled_charsmap: "AA==" }, model: { type: "WordPiece", vocab: { "[UNK]": 0 } } },
    code: "E_FORMAT",
    mentions: "Precompiled",
  },
  { name: "unk token missing from the vocabulary", json: { model: { type: "WordPiece", vocab: { a: 0 } } }, code: "E_FORMAT", mentions: "[UNK]" },
  { name: "BPE merge of unknown tokens", json: { model: { type: "BPE", vocab: { a: 0 }, merges: ["a b"] } }, code: "E_FORMAT", mentions: "a b" },
];

for (const row of ERROR_ROWS) {
  test(`tokenizerFromJson rejects: ${row.name}`, () => {
    assert.throws(
      () => tokenizerFromJson(row.json),
      (error: unknown) => error instanceof NerkitError && error.code === row.code && error.message.includes(row.mentions),
    );
  });
}

test("loadTokenizer: a missing folder or one without tokenizer files is E_IO; malformed JSON is E_FORMAT with the file", () => {
  assert.throws(() => loadTokenizer(join(tmpdir(), "nerkit-no-such-folder")), { name: "NerkitError", code: "E_IO" });
  const dir = tempDir("nerkit-tok-");
  assert.throws(() => loadTokenizer(dir), { name: "NerkitError", code: "E_IO" });
  writeFileSync(join(dir, "tokenizer.json"), "{ not json");
  assert.throws(
    () => loadTokenizer(dir),
    (error: unknown) => error instanceof NerkitError && error.code === "E_FORMAT" && error.file === join(dir, "tokenizer.json"),
  );
});
