// Reading and writing CoNLL column files: several columns, the tag column chosen from either end,
// -DOCSTART- lines, CRLF, a missing final newline, a UTF-8 BOM, blank lines holding spaces, the
// parse -> format -> parse round trip, and the errors a reader must place on the right line
// (wrong column count, malformed tags, strict transitions, invalid UTF-8), strict and lenient.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import { ConllCorpus, ConllSentence, ReadConllOptions, formatConll, parseConll, tokenColumnFor } from "../src/data/conll.js";
import { SCHEMES } from "../src/data/schemes.js";
import { decodeUtf8 } from "../src/io/files.js";
import { nerkitError } from "./helpers.js";

const RUNS = { numRuns: 200, seed: 42 };

const CONLL2003 = [
  "-DOCSTART- -X- -X- O",
  "",
  "EU NNP B-NP B-ORG",
  "rejects VBZ B-VP O",
  "German JJ B-NP B-MISC",
  "",
  "Peter NNP B-NP B-PER",
  "Blackburn NNP I-NP I-PER",
  "",
  "-DOCSTART- -X- -X- O",
  "",
  "BRUSSELS NNP B-NP B-LOC",
  "",
].join("\n");

/** The parts of sentences that a round trip must keep (the line is checked separately). */
function content(corpus: ConllCorpus): Omit<ConllSentence, "line">[] {
  return corpus.sentences.map(({ rows, tokens, tags, documentStart }) => ({ rows, tokens, tags, documentStart }));
}


test("reads four columns: tokens from the first, tags from the last, rows kept", () => {
  const corpus = parseConll(CONLL2003);
  assert.equal(corpus.columns, 4);
  assert.equal(corpus.tagColumn, 3);
  assert.deepEqual(corpus.skipped, []);
  assert.deepEqual(
    corpus.sentences.map((s) => [s.tokens, s.tags, s.line, s.documentStart]),
    [
      [["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"], 3, true],
      [["Peter", "Blackburn"], ["B-PER", "I-PER"], 7, false],
      [["BRUSSELS"], ["B-LOC"], 12, true],
    ],
  );
  assert.deepEqual(corpus.sentences[1].rows, [
    ["Peter", "NNP", "B-NP", "B-PER"],
    ["Blackburn", "NNP", "I-NP", "I-PER"],
  ]);
});

test("--tag-column: 1-based from the start, negative from the end", () => {
  const text = "EU B-ORG NNP\nrejects O VBZ\n";
  const second = parseConll(text, { tagColumn: 2 });
  assert.equal(second.tagColumn, 1);
  assert.deepEqual(second.sentences[0].tags, ["B-ORG", "O"]);
  const fromEnd = parseConll(text, { tagColumn: -2 });
  assert.equal(fromEnd.tagColumn, 1);
  assert.deepEqual(fromEnd.sentences[0].tags, ["B-ORG", "O"]);
  // The last column holds POS tags, which are not NER tags.
  assert.equal(nerkitError(() => parseConll(text)).code, "E_TAG");
  const four = parseConll(CONLL2003, { tagColumn: -1 });
  assert.deepEqual(four.sentences[0].tags, ["B-ORG", "O", "B-MISC"]);
  assert.deepEqual(parseConll(CONLL2003, { tagColumn: 4 }).sentences, four.sentences);
  assert.deepEqual(parseConll(CONLL2003, { tagColumn: -2 }).sentences[1].tags, ["B-NP", "I-NP"]);
});

test("a tag column that does not exist is a usage error", () => {
  for (const tagColumn of [0, 3, -3]) {
    const error = nerkitError(() => parseConll("EU B-ORG\n", { tagColumn }));
    assert.equal(error.code, "E_USAGE", `column ${tagColumn}`);
  }
});

test("formatConll writes the tag into the chosen column and keeps the others", () => {
  const corpus = parseConll("EU B-ORG NNP\nrejects O VBZ\n", { tagColumn: 2 });
  const sentences = corpus.sentences.map((s) => ({ ...s, tags: ["S-ORG", "O"] }));
  assert.equal(formatConll({ ...corpus, sentences }), "EU S-ORG NNP\nrejects O VBZ\n\n");
});

test("-DOCSTART- lines are written back where they were, with as many columns as the data", () => {
  assert.equal(formatConll(parseConll(CONLL2003)), CONLL2003 + "\n");
  const twoColumns = "-DOCSTART- O\n\nEU B-ORG\n\n";
  assert.equal(formatConll(parseConll(twoColumns)), twoColumns);
  assert.equal(formatConll(parseConll(twoColumns), { documentMarkers: false }), "EU B-ORG\n\n");
  // A -DOCSTART- that directly follows a token line still ends the sentence.
  const corpus = parseConll("a O\n-DOCSTART- O\nb O\n");
  assert.deepEqual(corpus.sentences.map((s) => [s.tokens, s.documentStart, s.line]), [
    [["a"], false, 1],
    [["b"], true, 3],
  ]);
});

test("CRLF, a missing final newline, a BOM and blank lines of spaces read like plain LF", () => {
  const plain = parseConll(CONLL2003);
  const variants: Record<string, string> = {
    crlf: CONLL2003.replaceAll("\n", "\r\n"),
    "no final newline": CONLL2003.replace(/\n+$/, ""),
    bom: "\uFEFF" + CONLL2003,
    "bom + crlf": "\uFEFF" + CONLL2003.replaceAll("\n", "\r\n"),
    "blank lines with spaces and tabs": CONLL2003.replaceAll("\n\n", "\n  \t \n"),
    "tabs between columns": CONLL2003.replaceAll(" ", "\t"),
    "trailing spaces": CONLL2003.replaceAll("\n", "  \n"),
  };
  for (const [name, text] of Object.entries(variants)) {
    assert.deepEqual(parseConll(text), plain, name);
  }
  const bytes = new TextEncoder().encode("\uFEFF" + CONLL2003.replaceAll("\n", "\r\n"));
  assert.deepEqual(parseConll(decodeUtf8(bytes)), plain, "decodeUtf8 of BOM + CRLF bytes");
});

test("an empty file or one of blank lines has no sentences", () => {
  for (const text of ["", "\n", "\n  \n\r\n", "-DOCSTART- -X- -X- O\n\n"]) {
    const corpus = parseConll(text);
    assert.deepEqual(corpus.sentences, [], JSON.stringify(text));
    assert.equal(formatConll(corpus), "", JSON.stringify(text));
  }
});

// Tokens and other columns: no whitespace; non-ASCII and astral characters included.
const cell = fc.string({ unit: fc.constantFrom(..."aZ9.,'\"()-_éü日😀".split(/(?:)/u)), minLength: 1, maxLength: 6 });
const tagArb = fc.constantFrom("O", "B-PER", "I-PER", "E-LOC", "S-GPE-LOC", "U-ORG", "L-ORG");

const corpusArb = fc.integer({ min: 2, max: 4 }).chain((columns) =>
  fc.record({
    columns: fc.constant(columns),
    tagColumn: fc.integer({ min: 1, max: columns }),
    sentences: fc.array(
      fc.record({
        documentStart: fc.boolean(),
        rows: fc.array(fc.array(cell, { minLength: columns, maxLength: columns }), { minLength: 1, maxLength: 5 }),
        tags: fc.array(tagArb, { minLength: 5, maxLength: 5 }),
      }),
      { maxLength: 5 },
    ),
    separator: fc.constantFrom(" ", "\t"),
  }),
);

test("format -> parse -> format round trip keeps every column, tag, line and document marker", () => {
  fc.assert(
    fc.property(corpusArb, ({ columns, tagColumn, sentences, separator }) => {
      const index = tagColumn - 1;
      const tokenColumn = tokenColumnFor(index);
      const built: ConllSentence[] = sentences.map(({ documentStart, rows, tags }) => {
        const withTags = rows.map((row, i) => row.map((c, k) => (k === index ? tags[i] : c)));
        const sentence: ConllSentence = { tokens: withTags.map((r) => r[tokenColumn]), tags: withTags.map((r) => r[index]), line: 0, documentStart };
        // The reader keeps whole rows unless the file is plain "TOKEN TAG".
        if (columns > 2 || index !== 1) sentence.rows = withTags;
        return sentence;
      });
      const text = formatConll({ sentences: built, columns, tagColumn: index }, { separator });
      const options: ReadConllOptions = { tagColumn: tagColumn - columns - 1 }; // the same column, counted from the end
      const parsed = parseConll(text, options);
      assert.deepEqual(content(parsed), content({ sentences: built, columns, tagColumn: index, skipped: [] }));
      let expectedLine = 1;
      for (const sentence of parsed.sentences) {
        if (sentence.documentStart) expectedLine += 2;
        assert.equal(sentence.line, expectedLine);
        expectedLine += sentence.tokens.length + 1;
      }
      assert.equal(formatConll(parsed, { separator }), text);
      if (built.length > 0) assert.equal(parsed.tagColumn, index);
    }),
    RUNS,
  );
});

test("a line with another number of columns is E_FORMAT on that line", () => {
  const cases: [string, number][] = [
    ["a B-PER\nb O\n\nc O x\n", 4],
    ["a NN B-PER\nb O\n", 2],
    ["a\n", 1],
    ["\n\na\nb O\n", 3],
  ];
  for (const [text, line] of cases) {
    const error = nerkitError(() => parseConll(text, { file: "train.txt" }));
    assert.equal(error.code, "E_FORMAT", JSON.stringify(text));
    assert.equal(error.line, line, JSON.stringify(text));
    assert.equal(error.file, "train.txt");
  }
});

test("malformed tags are E_TAG on their line, naming the tag and column", () => {
  for (const bad of ["B-", "X-PER", "B_PER", "BPER", "-PER", "o"]) {
    const error = nerkitError(() => parseConll(`EU NNP B-ORG\n\nPeter NNP B-PER\nBlackburn NNP ${bad}\n`, { file: "f.conll" }));
    assert.equal(error.code, "E_TAG", bad);
    assert.equal(error.line, 4, bad);
    assert.equal(error.field, "column 3", bad);
    assert.match(error.message, new RegExp(`'${bad}'`), bad);
    assert.match(error.describe(), /^f\.conll:4: column 3: /);
  }
});

test("with a scheme, a prefix from another scheme is E_TAG", () => {
  const error = nerkitError(() => parseConll("a B-PER\nb E-PER\n", { scheme: SCHEMES.IOB2 }));
  assert.equal(error.code, "E_TAG");
  assert.equal(error.line, 2);
  assert.equal(parseConll("a B-PER\nb E-PER\n", { scheme: SCHEMES.IOBES }).sentences.length, 1);
});

test("strict IOB2: an illegal transition is E_TRANSITION on the offending token's line", () => {
  const cases: [string, number][] = [
    ["a O\nb I-PER\n", 2],
    ["x O\n\n-DOCSTART- O\n\na B-PER\nb I-PER\nc O\nd I-LOC\n", 8],
    ["a I-PER\n", 1],
    ["a B-PER\nb I-LOC\n", 2],
  ];
  for (const [text, line] of cases) {
    const error = nerkitError(() => parseConll(text, { scheme: SCHEMES.IOB2, strict: true }));
    assert.equal(error.code, "E_TRANSITION", JSON.stringify(text));
    assert.equal(error.line, line, JSON.stringify(text));
    // Without strict the same file reads, leniently decoded later.
    assert.doesNotThrow(() => parseConll(text, { scheme: SCHEMES.IOB2 }));
  }
  assert.equal(parseConll("a B-PER\nb I-PER\nc O\n", { scheme: SCHEMES.IOB2, strict: true }).sentences.length, 1);
});

test("lenient: bad sentences are skipped and counted, good ones kept", () => {
  const text = [
    "a B-PER", "", // 1: fine
    "b X-PER", "c O", "", // 3: bad tag
    "d O", "e O extra", "", // 6: wrong column count on line 7
    "f O", "g I-PER", "", // 9: illegal IOB2 transition on line 10
    "h B-LOC", "", // 12: fine
  ].join("\n");
  const corpus = parseConll(text, { lenient: true, scheme: SCHEMES.IOB2, strict: true, file: "x" });
  assert.deepEqual(corpus.sentences.map((s) => s.tokens), [["a"], ["h"]]);
  assert.deepEqual(
    corpus.skipped.map((s) => [s.error.code, s.error.line, s.error.file]),
    [
      ["E_TAG", 3, "x"],
      ["E_FORMAT", 7, "x"],
      ["E_TRANSITION", 10, "x"],
    ],
  );
  // keepBroken leaves the broken sentences in place, marked, so files still pair up.
  const kept = parseConll(text, { lenient: true, keepBroken: true, scheme: SCHEMES.IOB2, strict: true });
  assert.equal(kept.sentences.length, 5);
  assert.deepEqual(kept.sentences.map((s) => s.error?.code), [undefined, "E_TAG", "E_FORMAT", "E_TRANSITION", undefined]);
  assert.equal(kept.skipped.length, 3);
  // Not lenient: the first problem is thrown.
  assert.equal(nerkitError(() => parseConll(text, { scheme: SCHEMES.IOB2, strict: true })).line, 3);
});

test("decodeUtf8: invalid bytes are E_ENCODING with the line; a BOM is dropped", () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  const withBad = (before: string, bad: number[], after: string) => new Uint8Array([...encode(before), ...bad, ...encode(after)]);
  const cases: [Uint8Array, number][] = [
    [withBad("", [0xff], " O\n"), 1],
    [withBad("EU B-ORG\nrejects O\n\nx", [0xc3, 0x28], " O\n"), 4],
    [withBad("a O\r\nb O\r\n", [0xe2, 0x82], "\r\n"), 3],
    [withBad("a O\nb O", [0xf0, 0x9f, 0x98], ""), 2], // truncated at the end of the file
    [withBad("\uFEFFa O\n", [0xed, 0xa0, 0x80], " O\n"), 2], // an encoded surrogate
  ];
  for (const [bytes, line] of cases) {
    const error = nerkitError(() => decodeUtf8(bytes, "in.conll"));
    assert.equal(error.code, "E_ENCODING");
    assert.equal(error.line, line);
    assert.equal(error.file, "in.conll");
  }
  assert.equal(decodeUtf8(encode("\uFEFFEU B-ORG\n")), "EU B-ORG\n");
  assert.equal(decodeUtf8(encode("日本 B-LOC 😀\n")), "日本 B-LOC 😀\n");
});

test(
  "decodeUtf8 names the offset of the bad byte",
  () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("a O\nbc"), 0xff, 0x20, 0x4f, 0x0a]);
    assert.match(nerkitError(() => decodeUtf8(bytes)).message, /at byte 6\b/);
  },
);

test(
  "two columns with the tag first (--tag-column 1): the token is the other column, and the file round-trips",
  () => {
    const text = "B-PER Peter\nO said\n\n";
    const corpus = parseConll(text, { tagColumn: 1 });
    assert.deepEqual(corpus.sentences[0].tags, ["B-PER", "O"]);
    assert.equal(formatConll(corpus), text);
  },
);

test(
  "lenient: a -DOCSTART- before a skipped sentence still marks the next sentence",
  () => {
    const text = "a O\n\n-DOCSTART- O\n\nb X-PER\n\nc O\n";
    const corpus = parseConll(text, { lenient: true });
    assert.deepEqual(corpus.sentences.map((s) => [s.tokens, s.documentStart]), [
      [["a"], false],
      [["c"], true],
    ]);
  },
);
