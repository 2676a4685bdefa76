// Readers never fail with anything but a NerkitError: random bytes, random text built from the
// pieces of CoNLL and JSON, random span-file records of roughly the right shape, and every
// truncated prefix of valid CoNLL, JSONL and Label Studio files go through decodeUtf8, parseConll,
// parseSpanFile (each format) and spansToTags; each outcome is a result or a NerkitError. Also
// writeFileAtomic: content written, no temporary file left behind, E_IO when it cannot write.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import { ReadConllOptions, parseConll } from "../src/data/conll.js";
import { SCHEMES } from "../src/data/schemes.js";
import { ReadSpansOptions, SPAN_FORMATS, parseSpanFile } from "../src/data/span-formats.js";
import { spansToTags } from "../src/data/spans.js";
import { decodeUtf8, readTextFile, writeFileAtomic } from "../src/io/files.js";
import { tempDir } from "./helpers.js";

const RUNS = { numRuns: 200, seed: 42 };

/** Runs `fn`; an exception other than a NerkitError fails the test. Returns the result or undefined. */
function resultOrNerkitError<T>(fn: () => T, what: string): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof NerkitError)) {
      assert.fail(`${what}: threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    assert.ok(error.message.length > 0, `${what}: empty message`);
    return undefined;
  }
}

const CONLL_OPTIONS: ReadConllOptions[] = [
  {},
  { lenient: true },
  { lenient: true, keepBroken: true },
  { tagColumn: 2 },
  { tagColumn: -2, lenient: true },
  { scheme: SCHEMES.IOB2, strict: true },
  { scheme: SCHEMES.IOBES, strict: true, lenient: true },
  { scheme: SCHEMES.BILOU, strict: true, lenient: true, keepBroken: true },
];
const SPAN_OPTIONS: ReadSpansOptions[] = [{}, { lenient: true }, { offsetUnit: "codepoint" }, { offsetUnit: "codepoint", lenient: true }];

/** Every reader on `text`; documents that were read are also turned into tags. */
function readEverything(text: string, what: string): void {
  for (const options of CONLL_OPTIONS) resultOrNerkitError(() => parseConll(text, options), `${what}: parseConll ${JSON.stringify(options)}`);
  for (const format of SPAN_FORMATS) {
    for (const options of SPAN_OPTIONS) {
      const corpus = resultOrNerkitError(() => parseSpanFile(text, format, options), `${what}: parseSpanFile ${format} ${JSON.stringify(options)}`);
      for (const doc of corpus?.documents ?? []) {
        for (const span of doc.spans) assert.ok(0 <= span.start && span.start < span.end && span.end <= doc.text.length, `${what}: span ${JSON.stringify(span)}`);
        resultOrNerkitError(() => spansToTags(doc, SCHEMES.BILOU), `${what}: spansToTags`);
      }
    }
  }
}

/** decodeUtf8, then every reader when the bytes decode. */
function readBytes(bytes: Uint8Array, what: string): void {
  const text = resultOrNerkitError(() => decodeUtf8(bytes, "fuzz"), `${what}: decodeUtf8`);
  if (text !== undefined) readEverything(text, what);
}

test("random bytes: decodeUtf8 and every reader give a result or a NerkitError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => readBytes(bytes, "bytes")),
    RUNS,
  );
});

test("random UTF-8 text (lone surrogates and astral characters included)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 80 }), (text) => readBytes(new TextEncoder().encode(text), "text")),
    RUNS,
  );
});

const PIECES = [
  // CoNLL
  "EU", "NNP", "B-PER", "I-PER", "E-LOC", "S-GPE-LOC", "U-ORG", "L-ORG", "O", "B-", "X-PER", "B_PER", "-DOCSTART-", "-X-",
  " ", " ", "\t", "\n", "\n", "\r\n", "\r", "\uFEFF", "\u00a0", "\u2028", "😀",
  // JSON
  "{", "}", "[", "]", ":", ",", "\"text\"", "\"spans\"", "\"ents\"", "\"entities\"", "\"label\"", "\"labels\"", "\"tokens\"",
  "\"start\"", "\"end\"", "\"start_offset\"", "\"end_offset\"", "\"data\"", "\"annotations\"", "\"completions\"", "\"result\"",
  "\"value\"", "\"was_cancelled\"", "\"id\"", "\"__proto__\"", "\"PER\"", "\"a😀b\"", "\"\\ud800\"", "0", "1", "3", "-1", "1.5",
  "1e400", "true", "null", "\"\"",
];

test("random text from pieces of CoNLL and JSON", () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }), (pieces) => readEverything(pieces.join(""), "pieces")),
    RUNS,
  );
});

// Records of roughly the right shape, each field sometimes of the wrong type.
const anyJson = fc.jsonValue({ maxDepth: 2 });
const numish = fc.oneof(fc.integer({ min: -3, max: 30 }), fc.integer({ min: -3, max: 30 }), fc.double(), fc.constant(null), fc.string({ maxLength: 2 }));
const labelish = fc.oneof(fc.constantFrom("PER", "GPE-LOC", "", "A B", "é"), anyJson);
const textish = fc.oneof(fc.string({ unit: "binary", maxLength: 30 }), fc.constantFrom("😀 Tim Cook 🇫🇷 Paris", "Apple hired Tim Cook."), anyJson);
const spanLike = fc.oneof(
  fc.tuple(numish, numish, labelish),
  fc.record({ start: numish, end: numish, label: labelish, text: textish, start_offset: numish, end_offset: numish, labels: fc.array(labelish, { maxLength: 2 }) }, { requiredKeys: [] }),
  anyJson,
);
const listOf = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.array(arb, { maxLength: 4 }) }, { weight: 1, arbitrary: anyJson });
const tokenLike = fc.oneof(fc.record({ text: textish, start: numish, end: numish }, { requiredKeys: [] }), anyJson);
const spanRecord = fc.record(
  { id: anyJson, text: textish, spans: listOf(spanLike), ents: listOf(spanLike), entities: listOf(spanLike), label: listOf(spanLike), tokens: listOf(tokenLike) },
  { requiredKeys: [] },
);
const resultLike = fc.oneof(
  fc.record({ type: fc.constantFrom("labels", "relation", "choices"), value: fc.oneof(spanLike, anyJson), from_id: fc.string(), to_id: fc.string() }, { requiredKeys: [] }),
  anyJson,
);
const annotationLike = fc.oneof(fc.record({ was_cancelled: fc.oneof(fc.boolean(), anyJson), result: listOf(resultLike) }, { requiredKeys: [] }), anyJson);
const taskRecord = fc.record(
  { id: anyJson, data: fc.oneof(fc.record({ text: textish, other: textish }, { requiredKeys: [] }), anyJson), annotations: listOf(annotationLike), completions: listOf(annotationLike) },
  { requiredKeys: [] },
);

// Records that mostly hold: spans and tokens cut from the text itself (UTF-16 cuts may split a
// surrogate pair, and tokens may overlap or come out of order), so that spansToTags gets work too.
const plausible = fc
  .record({
    text: fc.string({ unit: fc.constantFrom("a", "B", " ", ",", "(", "é", "😀", "\n"), maxLength: 16 }),
    cuts: fc.array(fc.nat({ max: 24 }), { maxLength: 8 }),
    tokenCuts: fc.option(fc.array(fc.nat({ max: 24 }), { maxLength: 10 }), { nil: undefined }),
    label: fc.constantFrom("PER", "GPE-LOC"),
    as: fc.constantFrom("spans", "ents", "label", "labelstudio"),
  })
  .map(({ text, cuts, tokenCuts, label, as }) => {
    const pairs = (xs: number[]) => xs.flatMap((x, k) => (k % 2 === 0 && k + 1 < xs.length ? [[x, xs[k + 1]]] : []));
    const spans = pairs([...new Set(cuts)].sort((a, b) => a - b)).map(([start, end]) => ({ start, end, label }));
    if (as === "labelstudio") return { data: { text }, annotations: [{ result: spans.map((value) => ({ type: "labels", value: { ...value, labels: [label] } })) }] };
    const record: Record<string, unknown> = { text, [as]: as === "spans" ? spans : spans.map((x) => [x.start, x.end, x.label]) };
    if (tokenCuts) record.tokens = pairs(tokenCuts).map(([start, end]) => ({ start, end }));
    return record;
  });

test("random span-file records, as JSON lines and as a JSON array", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(spanRecord, taskRecord, plausible, plausible, anyJson), { maxLength: 4 }), fc.boolean(), (records, asArray) => {
      const text = asArray ? JSON.stringify(records, null, 1) : records.map((r) => JSON.stringify(r)).join("\n");
      readEverything(text, asArray ? "array" : "jsonl");
    }),
    RUNS,
  );
});

test(
  "deeply nested JSON is an E_FORMAT error, not a stack overflow",
  () => {
    const deep = "[".repeat(20000) + "]".repeat(20000);
    for (const text of [`{"text": "a"}\n${deep}\n`, `[${deep}]`, `{"text": "a", "spans": [${deep}]}`]) {
      for (const format of SPAN_FORMATS) resultOrNerkitError(() => parseSpanFile(text, format, { lenient: true }), format);
    }
  },
);

const VALID_CONLL = [
  "-DOCSTART- -X- -X- O",
  "",
  "EU NNP B-NP B-ORG",
  "rejects VBZ B-VP O",
  "Köln NNP B-NP B-GPE-LOC",
  "",
  "😀 SYM O O",
  "Peter NNP B-NP B-PER",
  "Blackburn NNP I-NP I-PER",
  "",
].join("\r\n");

const VALID_JSONL = [
  { id: 1, text: "😀 Tim Cook 🇫🇷 Paris", spans: [{ start: 3, end: 11, label: "PER", text: "Tim Cook" }, { start: 17, end: 22, label: "LOC", text: "Paris" }] },
  { text: "Apple hired Tim.", ents: [[0, 5, "ORG"], [12, 15, "PER"]], tokens: [{ text: "Apple", start: 0, end: 5 }, { text: "hired", start: 6, end: 11 }, { text: "Tim", start: 12, end: 15 }, { text: ".", start: 15, end: 16 }] },
  { text: "Köln", label: [[0, 4, "GPE-LOC"]] },
]
  .map((r) => JSON.stringify(r))
  .join("\n");

const VALID_LABEL_STUDIO = JSON.stringify(
  [
    {
      id: 1,
      data: { text: "Tim Cook 😀 in Paris" },
      annotations: [
        { was_cancelled: true, result: [] },
        {
          result: [
            { id: "a", from_name: "label", to_name: "text", type: "labels", value: { start: 0, end: 8, text: "Tim Cook", labels: ["PER"] } },
            { id: "b", from_name: "label", to_name: "text", type: "labels", value: { start: 15, end: 20, text: "Paris", labels: ["LOC"] } },
          ],
        },
      ],
    },
    { id: 2, data: { text: "nothing" }, annotations: [] },
  ],
  null,
  2,
);

for (const [name, file] of [
  ["CoNLL", "\uFEFF" + VALID_CONLL],
  ["JSONL", VALID_JSONL],
  ["Label Studio", VALID_LABEL_STUDIO],
] as const) {
  test(`every truncated prefix of a valid ${name} file reads or fails with a NerkitError`, () => {
    const bytes = new TextEncoder().encode(file);
    for (let k = 0; k <= bytes.length; k++) readBytes(bytes.subarray(0, k), `${name} prefix ${k}`);
  });

  test(`a valid ${name} file with one byte changed reads or fails with a NerkitError`, () => {
    const bytes = new TextEncoder().encode(file);
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const changed = bytes.slice();
        changed[at] = value;
        readBytes(changed, `${name} byte ${at} = ${value}`);
      }),
      RUNS,
    );
  });
}

test("a CoNLL or JSONL file cut at a line end reads, as a prefix of the whole file", () => {
  const conll = parseConll(VALID_CONLL).sentences;
  const lines = VALID_CONLL.split("\r\n");
  for (let k = 0; k <= lines.length; k++) {
    const sentences = parseConll(lines.slice(0, k).join("\r\n")).sentences;
    // The last sentence may be cut short; the ones before it are whole.
    assert.deepEqual(sentences.slice(0, -1), conll.slice(0, Math.max(0, sentences.length - 1)), `CoNLL lines ${k}`);
  }
  const documents = parseSpanFile(VALID_JSONL, "jsonl").documents;
  const records = VALID_JSONL.split("\n");
  for (let k = 0; k <= records.length; k++) {
    assert.deepEqual(parseSpanFile(records.slice(0, k).join("\n"), "jsonl").documents, documents.slice(0, k), `JSONL lines ${k}`);
  }
});

test("writeFileAtomic writes the content and leaves no temporary file", () => {
  const dir = tempDir();
  try {
    const path = join(dir, "out.conll");
    writeFileAtomic(path, "EU B-ORG\n");
    assert.equal(readFileSync(path, "utf8"), "EU B-ORG\n");
    writeFileAtomic(path, "replaced 😀\n");
    assert.equal(readFileSync(path, "utf8"), "replaced 😀\n");
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a]);
    writeFileAtomic(join(dir, "bytes.bin"), bytes);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, "bytes.bin"))), bytes);
    writeFileAtomic(join(dir, "empty.txt"), "");
    assert.equal(readFileSync(join(dir, "empty.txt"), "utf8"), "");
    assert.deepEqual(readdirSync(dir).sort(), ["bytes.bin", "empty.txt", "out.conll"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileAtomic into a missing folder is E_IO and creates nothing", () => {
  const dir = tempDir();
  try {
    const path = join(dir, "missing", "out.conll");
    const error = (() => {
      try {
        writeFileAtomic(path, "x");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof NerkitError, `expected a NerkitError, got ${String(error)}`);
    assert.equal(error.code, "E_IO");
    assert.equal(error.file, path);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFileAtomic onto a folder is E_IO, and the temporary file is removed", () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, "taken"));
    writeFileSync(join(dir, "taken", "inside.txt"), "keep");
    assert.throws(() => writeFileAtomic(join(dir, "taken"), "x"), (error: unknown) => error instanceof NerkitError && error.code === "E_IO");
    assert.deepEqual(readdirSync(dir), ["taken"]);
    assert.equal(readFileSync(join(dir, "taken", "inside.txt"), "utf8"), "keep");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readTextFile: a missing file is E_IO, invalid UTF-8 is E_ENCODING with file and line", () => {
  const dir = tempDir();
  try {
    const missing = join(dir, "nope.conll");
    assert.throws(() => readTextFile(missing), (e: unknown) => e instanceof NerkitError && e.code === "E_IO" && e.file === missing);
    const bad = join(dir, "bad.conll");
    writeFileSync(bad, new Uint8Array([0x61, 0x20, 0x4f, 0x0a, 0x62, 0xff, 0x20, 0x4f, 0x0a]));
    assert.throws(() => readTextFile(bad), (e: unknown) => e instanceof NerkitError && e.code === "E_ENCODING" && e.file === bad && e.line === 2);
    const good = join(dir, "good.conll");
    writeFileSync(good, "\uFEFFa O\n");
    assert.equal(readTextFile(good), "a O\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
