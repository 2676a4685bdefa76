// Redaction covers whole words: the word table (src/text/words.ts) row by row; the fragments that
// /v1/redact used to leave ("D[LOC][LOC][PER]" for "Dario Wu", "[PER]io" for "Dario"); and property
// tests, on random entity spans and on the entities of the four random-weight fixture models run
// through the real pipeline, checked against a plain character-by-character word reference written
// here: every replacement starts and ends on a word boundary, no letter of a word an entity touches
// stays in clear, replacements neither overlap nor touch, and they widen no further than words.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { Replacement, Span, mergeEntities, postprocess, redact } from "../src/postprocess/index.js";
import { wordSpans } from "../src/text/words.js";
import { fixturesDir } from "./helpers.js";

/** The reference: a code point's class, then words built by one pass over the code points. */
function classOf(char: string): "letter" | "unspaced" | "joiner" | "other" {
  if (/[\p{L}\p{N}]/u.test(char) && /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u.test(char)) return "unspaced";
  if (/[\p{L}\p{M}\p{N}\p{Pc}]/u.test(char)) return "letter";
  if ("'’ʼ-‐‑\u200C\u200D".includes(char)) return "joiner";
  return "other";
}

function referenceWords(text: string): { start: number; end: number }[] {
  const chars: { char: string; at: number; kind: ReturnType<typeof classOf> }[] = [];
  for (let at = 0; at < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(at)!);
    chars.push({ char, at, kind: classOf(char) });
    at += char.length;
  }
  const words: { start: number; end: number }[] = [];
  const end = (i: number) => chars[i].at + chars[i].char.length;
  for (let i = 0; i < chars.length; ) {
    const kind = chars[i].kind;
    if (kind === "unspaced") {
      let j = i + 1;
      while (j < chars.length && /\p{M}/u.test(chars[j].char) && chars[j].kind === "letter") j++;
      words.push({ start: chars[i].at, end: end(j - 1) });
      i = j;
    } else if (kind === "letter") {
      let j = i + 1;
      for (;;) {
        if (j < chars.length && chars[j].kind === "letter") j++;
        else if (j + 1 < chars.length && chars[j].kind === "joiner" && chars[j + 1].kind === "letter") j += 2;
        else break;
      }
      words.push({ start: chars[i].at, end: end(j - 1) });
      i = j;
    } else i++;
  }
  return words;
}

const inside = (words: { start: number; end: number }[], offset: number) => words.find((w) => w.start < offset && offset < w.end);

/** Every property a whole-word redaction of `spans` must have, against the reference words. */
function checkWholeWords(text: string, spans: readonly Span[], replacements: readonly Replacement[], label: string): void {
  const words = referenceWords(text);
  replacements.forEach((r, i) => {
    assert.equal(inside(words, r.start), undefined, `${label}: replacement ${i} starts inside a word`);
    assert.equal(inside(words, r.end), undefined, `${label}: replacement ${i} ends inside a word`);
    if (i > 0) assert.ok(replacements[i - 1].end < r.start, `${label}: replacements ${i - 1} and ${i} overlap or touch`);
    // No wider than words: each end is an entity's end, or the end of a word one reaches into.
    const widen = (s: Span) => ({ start: inside(words, s.start)?.start ?? s.start, end: inside(words, s.end)?.end ?? s.end });
    assert.ok(spans.some((s) => widen(s).start === r.start), `${label}: replacement ${i} starts where no entity widens to`);
    assert.ok(spans.some((s) => widen(s).end === r.end), `${label}: replacement ${i} ends where no entity widens to`);
  });
  for (const span of spans) {
    for (const word of words.filter((w) => Math.max(w.start, span.start) < Math.min(w.end, span.end))) {
      assert.ok(replacements.some((r) => r.start <= word.start && word.end <= r.end), `${label}: ${JSON.stringify(text.slice(word.start, word.end))} touched by ${span.type} [${span.start}, ${span.end}) stays partly visible`);
    }
  }
}

const WORD_ROWS: Array<[text: string, words: string[]]> = [
  ["Dario Wu", ["Dario", "Wu"]],
  ["O'Brien and Jean-Luc’s", ["O'Brien", "and", "Jean-Luc’s"]],
  ["a -b- c'", ["a", "b", "c"]],
  ["e-mail: john.doe@example.com", ["e-mail", "john", "doe", "example", "com"]],
  ["Zoë Müller, naïve café", ["Zoë", "Müller", "naïve", "café"]],
  ["e\u0301tude x_y 3.14", ["e\u0301tude", "x_y", "3", "14"]],
  ["𝐀𝐁 😀 𝐂", ["𝐀𝐁", "𝐂"]],
  ["東京で会った、カー。", ["東", "京", "で", "会", "っ", "た", "カ", "ー"]],
  ["Seoul 서울시 and می‌خواهم", ["Seoul", "서울시", "and", "می‌خواهم"]],
  ["", []],
];

for (const [text, expected] of WORD_ROWS) {
  test(`words of ${JSON.stringify(text)}`, () => {
    assert.deepEqual(wordSpans(text).map((w) => text.slice(w.start, w.end)), expected);
    assert.deepEqual(wordSpans(text), referenceWords(text));
  });
}

test("redaction of 'Dario Wu' leaves no fragment (was D[LOC][LOC][PER], and [PER]io for 'Dario')", () => {
  const text = "Dario Wu";
  const pieces: Span[] = [
    { type: "LOC", start: 1, end: 3, score: 0.4 },
    { type: "LOC", start: 3, end: 5, score: 0.3 },
    { type: "PER", start: 6, end: 8, score: 0.9 },
  ];
  assert.equal(redact(text, pieces, { style: "type" }).text, "[LOC] [PER]");
  assert.equal(redact("Dario", [{ type: "PER", start: 0, end: 3 }], { style: "type" }).text, "[PER]");
  assert.equal(redact("Dario", [{ type: "PER", start: 0, end: 3 }], { style: "mask" }).text, "█████");
  // Pieces of one word with different types: one replacement, typed by the highest score (ties: the first).
  assert.deepEqual(redact("Dario", [{ type: "LOC", start: 1, end: 5, score: 0.6 }, { type: "PER", start: 0, end: 1, score: 0.5 }], { style: "type" }).replacements, [
    { type: "LOC", start: 0, end: 5, replacement: "[LOC]" },
  ]);
  assert.equal(redact("Dario", [{ type: "LOC", start: 1, end: 5, score: 0.5 }, { type: "PER", start: 0, end: 1, score: 0.5 }], { style: "type" }).text, "[PER]");
  // Spans that touch once widened are one replacement; a space between words keeps two.
  assert.equal(redact("Jean-Luc Picard", [{ type: "PER", start: 0, end: 4 }, { type: "PER", start: 9, end: 11 }], { style: "type" }).text, "[PER] [PER]");
  assert.equal(redact("O'Brien", [{ type: "PER", start: 2, end: 7 }], { style: "type" }).text, "[PER]");
  assert.equal(redact("AB", [{ type: "ORG", start: 0, end: 1 }, { type: "ORG", start: 1, end: 2 }], { style: "type" }).replacements.length, 1);
  // An empty span (RoBERTa's pipeline gives one for a trailing space) hides nothing and is no error.
  assert.equal(redact("Dario ", [{ type: "PER", start: 0, end: 3 }, { type: "LOC", start: 6, end: 6 }], { style: "type" }).text, "[PER] ");
});

const ALPHABET = ["a", "B", "é", "e\u0301", "ß", "Ж", "𝐀", "日", "カ", "7", "0", " ", " ", "\n", ",", ".", "'", "-", "@", "😀", "_", "ー"];

const textAndSpans = fc
  .tuple(fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom("PER", "LOC", "ORG"), fc.float({ min: 0, max: 1, noNaN: true })), { maxLength: 8 }))
  .map(([chars, raw]) => {
    const text = chars.join("");
    const spans: Span[] = [];
    for (const [a, b, type, score] of raw) {
      const start = a % text.length;
      const end = start + 1 + (b % (text.length - start));
      spans.push({ type, start, end, score });
    }
    return { text, spans };
  });

test("property: random spans on random texts are redacted whole words, none left partly visible", () => {
  fc.assert(
    fc.property(textAndSpans, ({ text, spans }) => {
      for (const style of ["type", "mask"] as const) {
        const { text: redacted, replacements } = redact(text, spans, { style });
        checkWholeWords(text, spans, replacements, JSON.stringify({ text, spans }));
        let rebuilt = "";
        let from = 0;
        for (const r of replacements) {
          rebuilt += text.slice(from, r.start) + r.replacement;
          from = r.end;
        }
        assert.equal(rebuilt + text.slice(from), redacted);
      }
    }),
    { numRuns: 2000, seed: 7 },
  );
});

// Words the tokenizers cut into pieces: names, non-ASCII, digits, a hyphen and an apostrophe.
const PIECES = ["Dario", "Wu", "Lindqvist", "O'Brien", "Jean-Luc", "Zürich", "Søren", "Ångström", "東京", "Müller", "mail", "dario@example.com", "+44 20 7946 0958", "42", "x7b", "the", "and", ",", ".", "é", "😀"];
const randomText = fc
  .array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(" ", " ", "", "\n", ", ")), { minLength: 1, maxLength: 24 })
  .map((parts) => parts.map(([word, gap]) => word + gap).join(""));

for (const kind of ["bert", "roberta", "xlmr", "distilbert"]) {
  let pipeline: NerPipeline;
  before(async () => {
    pipeline = await loadPipeline(join(fixturesDir, "hf", `${kind}-tiny`), { threads: 1 });
  });
  after(async () => pipeline?.close());

  test(`property: ${kind}-tiny's entities (simple and none), with and without rules, are redacted whole words`, async () => {
    await fc.assert(
      fc.asyncProperty(randomText, async (text) => {
        for (const aggregation of ["simple", "none"] as const) {
          const [items] = await pipeline.run([text], { aggregation });
          const entities = items.map((item) => ({ type: "type" in item ? item.type : item.label.replace(/^[BI]-/, ""), text: item.text, start: item.start, end: item.end, score: item.score }));
          const modelOnly = mergeEntities(entities, []);
          const withRules = postprocess(text, entities).entities;
          for (const spans of [entities, modelOnly, withRules]) {
            checkWholeWords(text, spans, redact(text, spans, { style: "type" }).replacements, `${kind} ${aggregation} ${JSON.stringify(text)}`);
          }
        }
      }),
      { numRuns: 40, seed: 11 },
    );
  });
}
