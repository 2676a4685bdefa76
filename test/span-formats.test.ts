// Span files and the link between spans and tags: spaCy-style JSONL (spans/ents/entities, object
// and [start, end, label] forms), doccano (label lists and entities objects), Label Studio (JSON
// array export and one task per line); UTF-16 and code-point offsets over emoji; errors with their
// line (invalid JSON, overlapping, out-of-range, empty spans, text that disagrees with offsets);
// lenient skipping; JSONL and tags <-> spans round trips; and the word tokenizer's offsets.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import { SCHEMES, SCHEME_NAMES, Chunk, encodeChunks } from "../src/data/schemes.js";
import { formatSpanJsonl, parseSpanFile } from "../src/data/span-formats.js";
import { SpanDocument, spansToTags, tagsToSpans, validateSpans } from "../src/data/spans.js";
import { tokenizeWords } from "../src/text/word-tokenizer.js";
import { nerkitError } from "./helpers.js";

const RUNS = { numRuns: 200, seed: 42 };
const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join("\n") + "\n";


const TEXT = "Apple hired Tim Cook in Cupertino.";
const SPANS = [
  { start: 0, end: 5, label: "ORG" },
  { start: 12, end: 20, label: "PER" },
  { start: 24, end: 33, label: "GPE-LOC" },
];

test("JSONL: spans, ents and entities; objects and [start, end, label]", () => {
  const text = jsonl(
    { id: "a", text: TEXT, spans: SPANS.map((s) => ({ ...s, text: TEXT.slice(s.start, s.end) })) },
    { text: TEXT, ents: SPANS.map((s) => [s.start, s.end, s.label]) },
    { id: 7, text: TEXT, entities: SPANS.map((s) => ({ start: s.start, end: s.end, label: s.label })) },
    { text: "nothing here" },
  );
  const { documents, skipped } = parseSpanFile(text, "jsonl");
  assert.deepEqual(skipped, []);
  assert.deepEqual(documents, [
    { id: "a", text: TEXT, spans: SPANS, line: 1 },
    { text: TEXT, spans: SPANS, line: 2 },
    { id: 7, text: TEXT, spans: SPANS, line: 3 },
    { text: "nothing here", spans: [], line: 4 },
  ]);
  for (const doc of documents) for (const s of doc.spans) assert.equal(doc.text.slice(s.start, s.end), TEXT.slice(s.start, s.end));
});

test("JSONL: blank lines and CRLF are skipped but counted in line numbers", () => {
  const text = "\r\n" + JSON.stringify({ text: TEXT, spans: [] }) + "\r\n  \r\n" + JSON.stringify({ text: "x", spans: [[0, 1, "X"]] }) + "\r\n";
  assert.deepEqual(
    parseSpanFile(text, "jsonl").documents.map((d) => d.line),
    [2, 4],
  );
});

test("doccano: label lists and entities objects", () => {
  const text = jsonl(
    { id: 1, text: TEXT, label: SPANS.map((s) => [s.start, s.end, s.label]) },
    { id: 2, text: TEXT, entities: SPANS.map((s, i) => ({ id: 100 + i, start_offset: s.start, end_offset: s.end, label: s.label })), relations: [] },
  );
  assert.deepEqual(parseSpanFile(text, "doccano").documents, [
    { id: 1, text: TEXT, spans: SPANS, line: 1 },
    { id: 2, text: TEXT, spans: SPANS, line: 2 },
  ]);
});

function labelStudioTask(id: number, text: string, annotations: unknown[]): unknown {
  return { id, data: { text, meta: "kept apart" }, annotations, predictions: [] };
}
function region(start: number, end: number, label: string, text: string): unknown {
  return { id: `r${start}`, from_name: "label", to_name: "text", type: "labels", value: { start, end, text: text.slice(start, end), labels: [label] } };
}

test("Label Studio JSON export: first annotation not cancelled, non-span results ignored", () => {
  const tasks = [
    labelStudioTask(1, TEXT, [
      { id: 10, was_cancelled: true, result: [region(0, 5, "WRONG", TEXT)] },
      {
        id: 11,
        was_cancelled: false,
        result: [
          ...SPANS.map((s) => region(s.start, s.end, s.label, TEXT)),
          { id: "c", from_name: "sentiment", to_name: "text", type: "choices", value: { choices: ["Positive"] } },
        ],
      },
    ]),
    labelStudioTask(2, "no annotation at all", []),
    labelStudioTask(3, "all cancelled", [{ was_cancelled: true, result: [region(0, 3, "X", "all cancelled")] }]),
  ];
  const { documents } = parseSpanFile(JSON.stringify(tasks, null, 2), "labelstudio");
  assert.deepEqual(documents, [
    { id: 1, text: TEXT, spans: SPANS, line: 1 },
    { id: 2, text: "no annotation at all", spans: [], line: 2 },
    { id: 3, text: "all cancelled", spans: [], line: 3 },
  ]);
  // The same tasks one per line read the same, lines being file lines.
  assert.deepEqual(parseSpanFile(jsonl(...tasks), "labelstudio").documents, documents);
});

test("Label Studio: the older 'completions' key is read too", () => {
  const task = { data: { text: TEXT }, completions: [{ result: [region(0, 5, "ORG", TEXT)] }] };
  assert.deepEqual(parseSpanFile(JSON.stringify([task]), "labelstudio").documents[0].spans, [SPANS[0]]);
});

test(
  "Label Studio: relation results (no value) are ignored like other non-span results",
  () => {
    const task = labelStudioTask(1, TEXT, [
      { result: [region(0, 5, "ORG", TEXT), region(12, 20, "PER", TEXT), { from_id: "r12", to_id: "r0", type: "relation", direction: "right", labels: ["works_for"] }] },
    ]);
    assert.deepEqual(parseSpanFile(JSON.stringify([task]), "labelstudio").documents[0].spans, SPANS.slice(0, 2));
  },
);

// Code points: 😀=0 " "=1 T=2 i=3 m=4 " "=5 C=6 o=7 o=8 k=9 " "=10 🇫=11 🇷=12 " "=13 P..s=14..18
const EMOJI_TEXT = "😀 Tim Cook 🇫🇷 Paris";

test("offsets: UTF-16 by default, code points on request", () => {
  const utf16 = [
    { start: 3, end: 11, label: "PER" },
    { start: 17, end: 22, label: "LOC" },
  ];
  assert.deepEqual(utf16.map((s) => EMOJI_TEXT.slice(s.start, s.end)), ["Tim Cook", "Paris"]);
  const inUtf16 = jsonl({ text: EMOJI_TEXT, spans: utf16.map((s) => ({ ...s, text: EMOJI_TEXT.slice(s.start, s.end) })) });
  assert.deepEqual(parseSpanFile(inUtf16, "jsonl").documents[0].spans, utf16);
  const inCodePoints = jsonl({ text: EMOJI_TEXT, spans: [{ start: 2, end: 10, label: "PER", text: "Tim Cook" }, [14, 19, "LOC"]] });
  assert.deepEqual(parseSpanFile(inCodePoints, "jsonl", { offsetUnit: "codepoint" }).documents[0].spans, utf16);
  assert.deepEqual(parseSpanFile(inCodePoints, "doccano", { offsetUnit: "codepoint" }).documents[0].spans, utf16);
  const task = { data: { text: EMOJI_TEXT }, annotations: [{ result: [{ value: { start: 14, end: 19, text: "Paris", labels: ["LOC"] } }] }] };
  assert.deepEqual(parseSpanFile(JSON.stringify([task]), "labelstudio", { offsetUnit: "codepoint" }).documents[0].spans, [utf16[1]]);
  // Writing code points gives back the file's offsets.
  const written = JSON.parse(formatSpanJsonl([{ text: EMOJI_TEXT, spans: utf16 }], "codepoint"));
  assert.deepEqual(written.spans.map((s: { start: number; end: number }) => [s.start, s.end]), [[2, 10], [14, 19]]);
});

test("a span text that disagrees with the offsets is an error that suggests codepoint when that fixes it", () => {
  const file = jsonl({ text: "ok", spans: [] }, { text: EMOJI_TEXT, spans: [{ start: 2, end: 10, label: "PER", text: "Tim Cook" }] });
  const error = nerkitError(() => parseSpanFile(file, "jsonl", { file: "a.jsonl" }));
  assert.equal(error.code, "E_FORMAT");
  assert.equal(error.line, 2);
  assert.equal(error.file, "a.jsonl");
  assert.match(error.message, /codepoint/);
  // A text that no unit explains gets no such hint.
  const wrong = jsonl({ text: EMOJI_TEXT, spans: [{ start: 3, end: 11, label: "PER", text: "Tom Cook" }] });
  const plain = nerkitError(() => parseSpanFile(wrong, "jsonl"));
  assert.equal(plain.code, "E_FORMAT");
  assert.doesNotMatch(plain.message, /codepoint/);
  // Without astral characters the units agree, so no hint either.
  const ascii = nerkitError(() => parseSpanFile(jsonl({ text: TEXT, spans: [{ start: 0, end: 5, label: "ORG", text: "Apples" }] }), "jsonl"));
  assert.doesNotMatch(ascii.message, /codepoint/);
});

test("errors name the line: invalid JSON, overlapping, out-of-range, empty and malformed spans", () => {
  const good = JSON.stringify({ text: TEXT, spans: [] });
  const cases: [string, unknown, string][] = [
    ["invalid JSON", "{\"text\": \"a\", ", "E_FORMAT"],
    ["not an object", "[1, 2]", "E_FORMAT"],
    ["no text", { spans: [] }, "E_FORMAT"],
    ["spans not a list", { text: TEXT, spans: { start: 0 } }, "E_FORMAT"],
    ["span without label", { text: TEXT, spans: [{ start: 0, end: 5 }] }, "E_FORMAT"],
    ["string offsets", { text: TEXT, spans: [["0", "5", "ORG"]] }, "E_FORMAT"],
    ["overlapping", { text: TEXT, spans: [[0, 5, "ORG"], [4, 8, "X"]] }, "E_SPAN"],
    ["nested", { text: TEXT, spans: [[0, 10, "ORG"], [2, 3, "X"]] }, "E_SPAN"],
    ["past the end", { text: TEXT, spans: [[30, 99, "ORG"]] }, "E_SPAN"],
    ["negative", { text: TEXT, spans: [[-1, 3, "ORG"]] }, "E_SPAN"],
    ["empty", { text: TEXT, spans: [[4, 4, "ORG"]] }, "E_SPAN"],
    ["reversed", { text: TEXT, spans: [[5, 0, "ORG"]] }, "E_SPAN"],
    ["fractional", { text: TEXT, spans: [[0.5, 3, "ORG"]] }, "E_SPAN"],
    ["label with a space", { text: TEXT, spans: [[0, 5, "MY ORG"]] }, "E_SPAN"],
    ["empty label", { text: TEXT, spans: [[0, 5, ""]] }, "E_SPAN"],
  ];
  for (const [name, record, code] of cases) {
    const line = typeof record === "string" ? record : JSON.stringify(record);
    const text = [good, "", line, good].join("\n");
    const error = nerkitError(() => parseSpanFile(text, "jsonl", { file: "in.jsonl" }));
    assert.equal(error.code, code, name);
    assert.equal(error.line, 3, name);
    assert.equal(error.file, "in.jsonl", name);
    // Lenient: the bad record is skipped and counted, the good ones kept.
    const lenient = parseSpanFile(text, "jsonl", { lenient: true });
    assert.deepEqual(lenient.documents.map((d) => d.line), [1, 4], name);
    assert.deepEqual(lenient.skipped.map((s) => [s.error.code, s.error.line]), [[code, 3]], name);
  }
});

test("span-format errors show the value they found (regression: every message said 'a deeply nested value')", () => {
  const long = "x".repeat(200);
  const cases: [unknown, string][] = [
    [{ text: 42 }, "text: expected a string, found 42"],
    [{ spans: [] }, "text: expected a string, found nothing"],
    [{ text: TEXT, spans: { start: 0 } }, 'spans: expected a list of spans, found {"start":0}'],
    [{ text: TEXT, spans: [["0", "5", "ORG"]] }, 'spans[0]: expected [start, end, label], found ["0","5","ORG"]'],
    [{ text: TEXT, spans: [{ start: 0, end: 5 }] }, 'spans[0]: expected numeric "start", "end" and a string "label", found {"start":0,"end":5}'],
    [{ text: TEXT, spans: [true] }, "spans[0]: expected a span object or [start, end, label], found true"],
    [{ text: TEXT, spans: [], tokens: "a b" }, 'tokens: expected a list of tokens, found "a b"'],
    ["a string", 'expected a JSON object per line, found "a string"'],
    [{ text: TEXT, spans: [[long, 1, "X"]] }, `spans[0]: expected [start, end, label], found ["${"x".repeat(75)}...`],
  ];
  for (const [record, message] of cases) {
    const error = nerkitError(() => parseSpanFile(JSON.stringify(record) + "\n", "jsonl", { file: "in.jsonl" }), "E_FORMAT");
    assert.equal(error.describe(), `in.jsonl:1: ${message}`);
  }
  // Only a value too deep for JSON.stringify is summarised.
  const deep = "[".repeat(20000) + "]".repeat(20000);
  const error = nerkitError(() => parseSpanFile(`{"text": "a", "spans": [${deep}]}\n`, "jsonl"), "E_FORMAT");
  assert.match(error.describe(), /found a deeply nested array$/);
});

test("Label Studio errors: invalid JSON array, bad tasks by record number, lenient", () => {
  assert.equal(nerkitError(() => parseSpanFile("[{\"data\": ", "labelstudio")).code, "E_FORMAT");
  const tasks = [
    labelStudioTask(1, TEXT, [{ result: [region(0, 5, "ORG", TEXT)] }]),
    { id: 2, annotations: [] },
    labelStudioTask(3, TEXT, [{ result: [region(0, 5, "ORG", TEXT), region(3, 8, "X", TEXT)] }]),
    labelStudioTask(4, TEXT, [{ result: [{ value: { start: 0, end: 50, labels: ["ORG"] } }] }]),
  ];
  const error = nerkitError(() => parseSpanFile(JSON.stringify(tasks), "labelstudio"));
  assert.equal(error.code, "E_FORMAT");
  assert.equal(error.line, 2);
  const lenient = parseSpanFile(JSON.stringify(tasks), "labelstudio", { lenient: true });
  assert.deepEqual(lenient.documents.map((d) => d.id), [1]);
  assert.deepEqual(lenient.skipped.map((s) => [s.error.code, s.error.line]), [
    ["E_FORMAT", 2],
    ["E_SPAN", 3],
    ["E_SPAN", 4],
  ]);
});

test(
  "code-point offsets: a negative start is out of range",
  () => {
    const file = jsonl({ text: "😀ab", spans: [{ start: -1, end: 2, label: "X" }] });
    assert.equal(nerkitError(() => parseSpanFile(file, "jsonl", { offsetUnit: "codepoint" })).code, "E_SPAN");
  },
);

test(
  "JSONL tokens that overlap or go backwards are an E_FORMAT error",
  () => {
    const file = jsonl({ text: "ab cd", spans: [[0, 2, "X"]], tokens: [{ start: 0, end: 2 }, { start: 0, end: 2 }, { start: 3, end: 5 }] });
    assert.equal(nerkitError(() => parseSpanFile(file, "jsonl")).code, "E_FORMAT");
  },
);

// Text from a mix of ASCII, whitespace, BMP and astral characters and a lone surrogate.
const CHARS = ["a", "B", "7", " ", "\n", "\t", ",", "(", "é", "日", "😀", "🇫", "𝐀", "\u00a0", "\uD800"];
const docArb: fc.Arbitrary<SpanDocument> = fc
  .record({
    chars: fc.array(fc.constantFrom(...CHARS), { maxLength: 20 }),
    cuts: fc.uniqueArray(fc.nat({ max: 20 }), { maxLength: 8 }),
    labels: fc.array(fc.constantFrom("PER", "LOC", "GPE-LOC", "é"), { minLength: 4, maxLength: 4 }),
    id: fc.option(fc.oneof(fc.nat(), fc.string({ maxLength: 3 })), { nil: undefined }),
    withTokens: fc.boolean(),
  })
  .map(({ chars, cuts, labels, id, withTokens }) => {
    const text = chars.join("");
    // Code-point boundaries in UTF-16 units, so that spans never split a surrogate pair.
    const bounds = [0];
    for (const c of text) bounds.push(bounds[bounds.length - 1] + c.length);
    const offsets = [...new Set(cuts.filter((c) => c < bounds.length).map((c) => bounds[c]))].sort((a, b) => a - b);
    const spans = [];
    for (let k = 0; k + 1 < offsets.length; k += 2) spans.push({ start: offsets[k], end: offsets[k + 1], label: labels[(k / 2) % 4] });
    const doc: SpanDocument = { text, spans };
    if (id !== undefined) doc.id = id;
    if (withTokens) doc.tokens = tokenizeWords(text);
    return doc;
  });

test("spans -> formatSpanJsonl -> parseSpanFile gives the documents back (UTF-16 and code points)", () => {
  fc.assert(
    fc.property(fc.array(docArb, { maxLength: 4 }), fc.constantFrom("utf16" as const, "codepoint" as const), (docs, unit) => {
      const parsed = parseSpanFile(formatSpanJsonl(docs, unit), "jsonl", { offsetUnit: unit });
      assert.deepEqual(parsed.skipped, []);
      assert.deepEqual(parsed.documents, docs.map((d, i) => ({ ...d, line: i + 1 })));
    }),
    RUNS,
  );
});

// Tokens the word tokenizer keeps whole: one punctuation character, or letters and digits.
const tokenArb = fc.oneof(
  fc.constantFrom(",", ".", "(", ")", "!", "-", "'", "\"", "$", "«", "。"),
  fc.string({ unit: fc.constantFrom("a", "Z", "0", "9", "é", "ß", "日", "𝐀", "😀"), minLength: 1, maxLength: 5 }),
);
const TYPES = ["PER", "LOC", "GPE-LOC"];
const taggedArb = fc.array(fc.record({ gap: fc.boolean(), type: fc.constantFrom(...TYPES), length: fc.integer({ min: 1, max: 3 }) }), { maxLength: 6 }).chain((runs) => {
  const chunks: Chunk[] = [];
  let n = 0;
  for (const run of runs) {
    if (!run.gap) chunks.push({ type: run.type, start: n, end: n + run.length });
    n += run.length;
  }
  return fc.record({ chunks: fc.constant(chunks), tokens: fc.array(tokenArb, { minLength: n, maxLength: n }) });
});

test("tags -> tagsToSpans -> spansToTags gives the tokens and tags back, with or without kept tokens", () => {
  fc.assert(
    fc.property(taggedArb, fc.constantFrom(...SCHEME_NAMES), ({ chunks, tokens }, name) => {
      const scheme = SCHEMES[name];
      const tags = encodeChunks(chunks, tokens.length, scheme);
      const doc = tagsToSpans(tokens, tags, scheme);
      assert.equal(doc.text, tokens.join(" "));
      assert.deepEqual(
        doc.spans.map((s) => doc.text.slice(s.start, s.end)),
        chunks.map((c) => tokens.slice(c.start, c.end).join(" ")),
      );
      assert.deepEqual(validateSpans(doc), doc.spans);
      const kept = spansToTags(doc, scheme);
      assert.deepEqual(kept.words.map((w) => w.text), tokens);
      assert.deepEqual(kept.tags, tags);
      // Retokenized from the text alone: the tokens were chosen so that the tokenizer finds them.
      const retokenized = spansToTags({ text: doc.text, spans: doc.spans }, scheme);
      assert.deepEqual(retokenized.words.map((w) => w.text), tokens);
      assert.deepEqual(retokenized.tags, tags);
      // And through a JSONL file, in code points.
      const [read] = parseSpanFile(formatSpanJsonl([doc], "codepoint"), "jsonl", { offsetUnit: "codepoint" }).documents;
      assert.deepEqual(spansToTags(read, scheme).tags, tags);
    }),
    RUNS,
  );
});

test("spansToTags splits words at span edges and rejects spans that cover no word", () => {
  const doc = { text: "NewYork's mayor", spans: [{ start: 0, end: 3, label: "LOC" }] };
  const { words, tags } = spansToTags(doc, SCHEMES.IOB2);
  assert.deepEqual(words.map((w) => w.text), ["New", "York", "'", "s", "mayor"]);
  assert.deepEqual(tags, ["B-LOC", "O", "O", "O", "O"]);
  const blank = nerkitError(() => spansToTags({ text: "a   b", spans: [{ start: 1, end: 3, label: "X" }] }, SCHEMES.IOB2));
  assert.equal(blank.code, "E_SPAN");
});

test("tokenizeWords: UTF-16 offsets that slice back to each word, in order, covering every non-space character", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.array(fc.nat({ max: 45 }), { maxLength: 6 }), (text, boundaries) => {
      const words = tokenizeWords(text, boundaries);
      let previousEnd = 0;
      for (const w of words) {
        assert.equal(text.slice(w.start, w.end), w.text);
        assert.ok(w.start >= previousEnd && w.start < w.end && w.end <= text.length, JSON.stringify(w));
        assert.doesNotMatch(w.text, /\s/u);
        // A word never splits a surrogate pair.
        assert.ok(!/^[\uDC00-\uDFFF]/.test(text.slice(w.start)) || !/[\uD800-\uDBFF]$/.test(text.slice(0, w.start)));
        // A word never crosses a boundary that falls between characters.
        for (const b of boundaries) {
          const inPair = /[\uD800-\uDBFF]$/.test(text.slice(0, b)) && /^[\uDC00-\uDFFF]/.test(text.slice(b));
          if (!inPair) assert.ok(!(w.start < b && b < w.end), `boundary ${b} inside ${JSON.stringify(w)}`);
        }
        previousEnd = w.end;
      }
      // Every character that is not whitespace belongs to a word.
      let i = 0;
      for (const char of text) {
        if (!/\s/u.test(char)) assert.ok(words.some((w) => w.start <= i && i < w.end), `character at ${i} is in no word`);
        i += char.length;
      }
    }),
    RUNS,
  );
});

test("tokenizeWords: table of inputs", () => {
  const rows: [string, string[]][] = [
    ["Apple's (IBM) U.S.", ["Apple", "'", "s", "(", "IBM", ")", "U", ".", "S", "."]],
    ["😀 Tim  Cook\n", ["😀", "Tim", "Cook"]],
    ["naïve café", ["naïve", "café"]],
    ["a+b=c", ["a", "+", "b", "=", "c"]],
    ["日本語。", ["日本語", "。"]],
    ["", []],
    [" \t\n", []],
  ];
  for (const [text, expected] of rows) {
    const words = tokenizeWords(text);
    assert.deepEqual(words.map((w) => w.text), expected, text);
    for (const w of words) assert.equal(text.slice(w.start, w.end), w.text);
  }
  assert.deepEqual(tokenizeWords("😀 Tim").map((w) => [w.start, w.end]), [[0, 2], [3, 6]]);
});
