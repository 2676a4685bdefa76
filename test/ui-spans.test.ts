// The web UI's span editing (ui/js/spans.js, plain JavaScript run here in node): one row per case
// for snapping a mouse selection to words, adding over overlaps, relabelling and moving boundaries by
// character (never inside a surrogate pair) and by word; and the JSONL it downloads, read back by
// the library's reader.

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { parseSpanFile } from "../src/data/span-formats.js";
import { repoRoot } from "./helpers.js";

interface Span {
  start: number;
  end: number;
  label: string;
  score?: number;
}

/** The part of ui/js/spans.js these tests call (the file is JavaScript, outside the TypeScript program). */
interface SpansModule {
  snapToWords(text: string, start: number, end: number): { start: number; end: number } | undefined;
  addSpan(spans: Span[], span: Span): { spans: Span[]; index: number };
  removeSpan(spans: Span[], index: number): Span[];
  relabel(spans: Span[], index: number, label: string): Span[];
  moveBoundary(text: string, spans: Span[], index: number, edge: "start" | "end", direction: -1 | 1, unit?: "char" | "word"): Span[];
  sameSpans(a: Span[], b: Span[]): boolean;
  toJsonl(documents: { text: string; spans: Span[] }[]): string;
  validLabel(label: string): boolean;
}

const spans = (await import(pathToFileURL(join(repoRoot, "ui", "js", "spans.js")).href)) as SpansModule;

const span = (start: number, end: number, label = "PER"): Span => ({ start, end, label });

describe("ui/js/spans.js", () => {
  test("snapToWords: a mouse selection grows to whole words and sheds white space", () => {
    const text = "Ada Lovelace, née Byron; 👋 Zürich";
    const cases: [number, number, { start: number; end: number } | undefined][] = [
      [0, 3, { start: 0, end: 3 }],
      [1, 6, { start: 0, end: 12 }], // "da Lo" → "Ada Lovelace"
      [3, 4, undefined], // a space alone
      [2, 4, { start: 0, end: 3 }], // "a " → "Ada"
      [12, 13, { start: 12, end: 13 }], // the comma is a word of its own
      [14, 16, { start: 14, end: 17 }], // "né" → "née"
      [25, 27, { start: 25, end: 27 }], // the emoji, two UTF-16 units
      [29, 30, { start: 28, end: 34 }], // inside "Zürich"
    ];
    for (const [start, end, expected] of cases) assert.deepEqual(spans.snapToWords(text, start, end), expected, `[${start}, ${end})`);
  });

  test("addSpan drops what the new span overlaps and keeps the list sorted", () => {
    const list = [span(0, 3), span(10, 14, "LOC"), span(20, 25, "ORG")];
    const cases: [Span, Span[], number][] = [
      [span(5, 8, "MISC"), [span(0, 3), span(5, 8, "MISC"), span(10, 14, "LOC"), span(20, 25, "ORG")], 1],
      [span(2, 12, "ORG"), [span(2, 12, "ORG"), span(20, 25, "ORG")], 0],
      [span(14, 20), [span(0, 3), span(10, 14, "LOC"), span(14, 20), span(20, 25, "ORG")], 2],
      [span(0, 3, "LOC"), [span(0, 3, "LOC"), span(10, 14, "LOC"), span(20, 25, "ORG")], 0],
    ];
    for (const [added, expected, index] of cases) assert.deepEqual(spans.addSpan(list, added), { spans: expected, index }, JSON.stringify(added));
    assert.deepEqual(list, [span(0, 3), span(10, 14, "LOC"), span(20, 25, "ORG")], "the input list is not changed");
  });

  test("removeSpan, relabel (dropping the model's score) and sameSpans", () => {
    const list = [{ ...span(0, 3), score: 0.9 }, span(5, 8)];
    assert.deepEqual(spans.removeSpan(list, 0), [span(5, 8)]);
    assert.deepEqual(spans.relabel(list, 0, "LOC"), [span(0, 3, "LOC"), span(5, 8)]);
    assert.equal(spans.relabel(list, 0, "PER")[0].score, 0.9, "the same label keeps the span as it was");
    assert.ok(spans.sameSpans(list, [span(5, 8), span(0, 3)]));
    assert.ok(!spans.sameSpans(list, [span(0, 3), span(5, 9)]));
    assert.ok(!spans.sameSpans(list, [span(0, 3, "ORG"), span(5, 8)]));
  });

  test("moveBoundary by character and by word; refused moves return the same list", () => {
    const text = "Acme Corp hired 👋 Bo in New York";
    // Acme [0, 4), Corp [5, 9), hired [10, 15), 👋 [16, 18), Bo [19, 21), in [22, 24), New [25, 28), York [29, 33)
    const list = [span(0, 4, "ORG"), span(19, 21), span(25, 28, "LOC")];
    const cases: [number, "start" | "end", -1 | 1, "char" | "word", Span | "same"][] = [
      [0, "end", 1, "char", span(0, 5, "ORG")],
      [0, "end", 1, "word", span(0, 9, "ORG")],
      [0, "start", -1, "char", "same"], // past the text's start
      [0, "start", 1, "char", span(1, 4, "ORG")],
      [0, "end", -1, "word", "same"], // would empty the span
      [1, "start", -1, "char", span(18, 21)], // the space before Bo
      [1, "start", -1, "word", span(16, 21)], // the emoji: one word, two units
      [2, "end", 1, "word", span(25, 33, "LOC")],
      [2, "start", -1, "word", span(22, 28, "LOC")],
      [2, "end", 1, "char", span(25, 29, "LOC")],
    ];
    for (const [index, edge, direction, unit, expected] of cases) {
      const moved = spans.moveBoundary(text, list, index, edge, direction, unit);
      const name = `${index} ${edge} ${direction} ${unit}`;
      if (expected === "same") assert.equal(moved, list, name);
      else assert.deepEqual(moved[index], expected, name);
    }
    // One character left of 18 is the whole emoji [16, 18), never its second half.
    assert.deepEqual(spans.moveBoundary(text, [span(18, 21)], 0, "start", -1)[0], span(16, 21));
    assert.deepEqual(spans.moveBoundary(text, [span(10, 16)], 0, "end", 1)[0], span(10, 18));
    // A neighbour stops a move.
    const close = [span(0, 4, "ORG"), span(5, 9, "ORG")];
    assert.equal(spans.moveBoundary(text, close, 0, "end", 1, "word"), close);
    assert.equal(spans.moveBoundary(text, close, 1, "start", -1, "word"), close);
  });

  test("toJsonl is read back by the library's span JSONL reader", () => {
    const documents = [
      { text: "Ada Lovelace met 👋 Babbage in London.", spans: [span(31, 37, "LOC"), { ...span(0, 12), score: 0.5 }, span(20, 27)] },
      { text: "Nothing here.", spans: [] },
    ];
    const jsonl = spans.toJsonl(documents);
    const read = parseSpanFile(jsonl, "jsonl").documents;
    assert.deepEqual(
      read.map((d) => ({ text: d.text, spans: d.spans })),
      [
        { text: documents[0].text, spans: [span(0, 12), span(20, 27), span(31, 37, "LOC")] },
        { text: "Nothing here.", spans: [] },
      ],
    );
    assert.deepEqual(JSON.parse(jsonl.split("\n")[0]).spans[1], { start: 20, end: 27, label: "PER", text: "Babbage" });
  });

  test("validLabel: one word, as the readers require", () => {
    for (const [label, ok] of [["PRODUCT", true], ["B-x", true], ["", false], ["TWO WORDS", false], ["TAB\t", false]] as const) assert.equal(spans.validLabel(label), ok, label);
  });
});
