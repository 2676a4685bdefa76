// Post-processing steps: each rule detector (one row per input, positive and negative), gazetteers,
// merging model and rule entities, confidence routing, redaction in each style, and a property test
// that replacement offsets point at the original spans. Checksummed examples are published test
// numbers (the IBAN registry's DE example, card networks' test PANs), not our own output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { NerkitError } from "../src/errors.js";
import {
  RuleEntity,
  SpanEntity,
  applyRules,
  compileRules,
  gazetteerRule,
  mergeEntities,
  postprocess,
  redact,
  route,
} from "../src/postprocess/index.js";

const RUNS = { numRuns: 200, seed: 42 };

function found(detector: string, text: string): string[] {
  return applyRules(text, { detectors: [detector] }).map((entity) => entity.text);
}

const DETECTOR_ROWS: Array<[detector: string, text: string, expected: string[]]> = [
  ["EMAIL", "write to john.doe+x@example.co.uk today", ["john.doe+x@example.co.uk"]],
  ["EMAIL", "not an address: john@localhost or @handle", []],
  ["PHONE", "call +44 20 7946 0958 now", ["+44 20 7946 0958"]],
  ["PHONE", "call +1 (555) 123-4567", ["+1 (555) 123-4567"]],
  ["PHONE", "call (020) 7946 0958 or 06 12 34 56 78", ["(020) 7946 0958", "06 12 34 56 78"]],
  ["PHONE", "US office: 555-123-4567.", ["555-123-4567"]],
  ["PHONE", "in 2026 we sold 12345678 units, 3.14159265 and 1,234,567", []],
  ["PHONE", "dates are not phones: 2026-11-27 and 27/11/2026", []],
  ["IBAN", "IBAN DE89 3704 0044 0532 0130 00, thanks", ["DE89 3704 0044 0532 0130 00"]],
  ["IBAN", "compact GB82WEST12345698765432 works", ["GB82WEST12345698765432"]],
  ["IBAN", "bad check digits DE88 3704 0044 0532 0130 00", []],
  ["CREDIT_CARD", "card 4111 1111 1111 1111 exp", ["4111 1111 1111 1111"]],
  ["CREDIT_CARD", "amex 3782-822463-10005 and 5555555555554444", ["3782-822463-10005", "5555555555554444"]],
  ["CREDIT_CARD", "Luhn fails: 4111 1111 1111 1112; too short: 4111 1111 1111", []],
  ["URL", "see https://example.org/a?b=1. and www.test.com, ok", ["https://example.org/a?b=1", "www.test.com"]],
  ["URL", "no scheme example.org here", []],
  ["IP", "hosts 192.168.1.1 and 10.0.0.255.", ["192.168.1.1", "10.0.0.255"]],
  ["IP", "v6 2001:db8::1 and fe80:0:0:0:200:f8ff:fe21:67cf", ["2001:db8::1", "fe80:0:0:0:200:f8ff:fe21:67cf"]],
  ["IP", "out of range 192.168.1.300, version 1.2.3, time 12:30:45, std::vector", []],
  ["DATE", "on 2026-11-27 and 27/11/2026", ["2026-11-27", "27/11/2026"]],
  ["DATE", "from 27 November 2026 to November 27, 2026", ["27 November 2026", "November 27, 2026"]],
  ["DATE", "not dates: 2026-13-01, 32/11/2026, 31/31/2026, 2026", []],
  ["MONEY", "$1,234.56 and EUR 12.50 and 12 euros and £3m", ["$1,234.56", "EUR 12.50", "12 euros", "£3m"]],
  ["MONEY", "12 m people, 3.5 kg, 2026, EURO 2024", []],
];

for (const [detector, text, expected] of DETECTOR_ROWS) {
  test(`${detector} in ${JSON.stringify(text)}`, () => {
    assert.deepEqual(found(detector, text), expected);
  });
}

test("rule entities carry score 1, source and offsets into the text; checksums mark them validated", () => {
  const text = "IBAN DE89 3704 0044 0532 0130 00 or mail a@b.io";
  const [iban, email] = applyRules(text, { detectors: ["IBAN", "EMAIL"] });
  assert.deepEqual(iban, { type: "IBAN", text: "DE89 3704 0044 0532 0130 00", start: 5, end: 32, score: 1, source: "rule", rule: "IBAN", validated: true });
  assert.equal(email.validated, false);
  assert.equal(text.slice(email.start, email.end), "a@b.io");
});

test("gazetteers prefer the longest phrase and respect word boundaries and case", () => {
  const rule = gazetteerRule("ORG", ["New York", "New York Times", "Times"]);
  const text = "The new york times said; Timesheet and NewYork are not; Times is.";
  const entities = applyRules(text, [rule]);
  assert.deepEqual(
    entities.map((e) => [e.text, e.start]),
    [["new york times", 4], ["Times", 56]],
  );
  const cased = applyRules("the new york times", [gazetteerRule("ORG", ["New York"], { caseSensitive: true })]);
  assert.deepEqual(cased, []);
  const inWord = applyRules("Timesheet", [gazetteerRule("ORG", ["Times"], { wholeWord: false })]);
  assert.deepEqual(inWord.map((e) => e.text), ["Times"]);
});

test("rule sets: default enables every detector, unknown names and bad gazetteers are usage errors", () => {
  assert.equal(compileRules().length, 8);
  assert.deepEqual(compileRules({ detectors: [] }), []);
  const withGazetteer = compileRules({ detectors: ["EMAIL"], gazetteers: [{ type: "LOC", phrases: ["Paris"] }] });
  assert.deepEqual(withGazetteer.map((d) => d.name), ["EMAIL", "gazetteer:LOC"]);
  const usage = (pattern: RegExp) => (error: unknown) =>
    error instanceof NerkitError && error.code === "E_USAGE" && pattern.test(error.message);
  assert.throws(() => compileRules({ detectors: ["EMAIL", "SSN"] }), usage(/unknown detector "SSN" \(known: EMAIL, PHONE/));
  assert.throws(() => compileRules({ gazetteers: [{ type: "LOC", phrases: [] }] }), usage(/phrases/));
  assert.throws(() => compileRules({ gazetteers: [{ type: "", phrases: ["x"] }] }), usage(/entity type/));
});

function model(type: string, start: number, end: number, score: number): SpanEntity {
  return { type, text: "", start, end, score };
}
function rule(type: string, start: number, end: number, validated: boolean): RuleEntity {
  return { type, text: "", start, end, score: 1, source: "rule", rule: type, validated };
}

const MERGE_ROWS: Array<[name: string, model: SpanEntity[], rules: RuleEntity[], kept: string[]]> = [
  ["disjoint spans are all kept, sorted by start", [model("PER", 10, 15, 0.9)], [rule("EMAIL", 0, 5, false)], ["EMAIL 0", "PER 10"]],
  ["a validated rule beats a longer model span", [model("ORG", 0, 30, 0.99)], [rule("IBAN", 5, 27, true)], ["IBAN 5"]],
  ["else the longer span wins", [model("ORG", 0, 30, 0.5)], [rule("PHONE", 5, 20, false)], ["ORG 0"]],
  ["a longer rule span beats a shorter model span", [model("LOC", 4, 8, 0.99)], [rule("URL", 0, 20, false)], ["URL 0"]],
  ["same length: the higher score wins", [model("PER", 0, 5, 0.7)], [rule("PHONE", 2, 7, false)], ["PHONE 2"]],
  ["same length and score: model first", [model("PER", 0, 5, 1)], [rule("PHONE", 2, 7, false)], ["PER 0"]],
  ["overlaps among rules are settled the same way", [], [rule("PHONE", 9, 27, false), rule("IBAN", 5, 32, true)], ["IBAN 5"]],
  ["the loser of a conflict frees the way for others", [model("A", 0, 10, 0.9), model("B", 8, 12, 0.9), model("C", 11, 14, 0.9)], [], ["A 0", "C 11"]],
];

for (const [name, modelEntities, ruleEntities, kept] of MERGE_ROWS) {
  test(`merge: ${name}`, () => {
    const merged = mergeEntities(modelEntities, ruleEntities);
    assert.deepEqual(merged.map((e) => `${e.type} ${e.start}`), kept);
  });
}

test("merge marks model entities and keeps their extra fields", () => {
  const [entity] = mergeEntities([{ ...model("PER", 0, 3, 0.9), word: "Ann" }], []);
  assert.deepEqual(entity, { type: "PER", text: "", start: 0, end: 3, score: 0.9, word: "Ann", source: "model" });
});

const ROUTE_ROWS: Array<[name: string, scores: Array<[string, number]>, options: Parameters<typeof route>[1], decisions: string[], document: string]> = [
  ["defaults 0.95 / 0.80, bounds inclusive", [["PER", 0.95], ["PER", 0.8], ["PER", 0.79]], {}, ["accept", "review", "reject"], "review"],
  ["all accepted or rejected: accept", [["PER", 0.99], ["PER", 0.1]], {}, ["accept", "reject"], "accept"],
  ["an empty document is accepted", [], {}, [], "accept"],
  ["global thresholds", [["PER", 0.7]], { accept: 0.9, review: 0.6 }, ["review"], "review"],
  [
    "per-type overrides, partial ones fall back to the global thresholds",
    [["PER", 0.9], ["IBAN", 0.9], ["LOC", 0.9]],
    { accept: 0.95, review: 0.5, perType: { IBAN: { accept: 0.85 }, LOC: { accept: 1, review: 0.95 } } },
    ["review", "accept", "reject"],
    "review",
  ],
];

for (const [name, scores, options, decisions, document] of ROUTE_ROWS) {
  test(`route: ${name}`, () => {
    const routed = route(scores.map(([type, score]) => model(type, 0, 1, score)), options);
    assert.deepEqual(routed.entities.map((e) => e.decision), decisions);
    assert.equal(routed.decision, document);
  });
}

const BAD_ROUTING: Array<[Parameters<typeof route>[1], RegExp]> = [
  [{ accept: 0.5, review: 0.8 }, /review threshold \(0.8\) must not exceed accept threshold \(0.5\)/],
  [{ accept: 1.5 }, /accept threshold must be a number between 0 and 1/],
  [{ review: -0.1 }, /review threshold must be a number between 0 and 1/],
  [{ perType: { PER: { review: 0.99 } } }, /must not exceed/],
  [{ accept: Number.NaN }, /between 0 and 1/],
  [{ uncertain: 1.2 }, /informativeness that sends a document to review must be a number between 0 and 1/],
];

for (const [options, message] of BAD_ROUTING) {
  test(`route rejects ${JSON.stringify(options)}`, () => {
    assert.throws(() => route([], options), (error: unknown) => error instanceof NerkitError && error.code === "E_USAGE" && message.test(error.message));
  });
}

test("route: an informative document goes to review on its informativeness alone, at or above options.uncertain", () => {
  const accepted = [model("PER", 0, 1, 0.99)];
  const cases: Array<[string, Parameters<typeof route>[1], number | undefined, "accept" | "review", true | undefined]> = [
    ["off by default", {}, 0.9, "accept", undefined],
    ["below", { uncertain: 0.5 }, 0.49, "accept", undefined],
    ["at", { uncertain: 0.5 }, 0.5, "review", true],
    ["unmeasured", { uncertain: 0 }, undefined, "accept", undefined],
  ];
  for (const [name, options, informativeness, decision, uncertain] of cases) {
    const routed = route(accepted, options, informativeness);
    assert.equal(routed.decision, decision, name);
    assert.equal(routed.uncertain, uncertain, name);
    assert.deepEqual(routed.entities.map((e) => e.decision), ["accept"], name);
  }
  // No entity at all: the missed-entity case.
  assert.equal(route([], { uncertain: 0.3 }, 0.4).decision, "review");
  // An entity in the review band decides first, without the flag.
  const band = route([model("ORG", 0, 1, 0.85)], { uncertain: 0.3 }, 0.9);
  assert.deepEqual([band.decision, band.uncertain], ["review", undefined]);
});

// The emoji before the name is two UTF-16 units and one code point.
const TEXT = "😀 Ann Lee met Bob at Acme";
const ENTITIES = [
  { type: "ORG", start: 22, end: 26 },
  { type: "PER", start: 3, end: 10 },
  { type: "PER", start: 15, end: 18 },
];

test("redact with type labels, entities in any order, offsets into the original", () => {
  assert.equal(TEXT.slice(3, 10), "Ann Lee");
  const { text, replacements } = redact(TEXT, ENTITIES, { style: "type" });
  assert.equal(text, "😀 [PER] met [PER] at [ORG]");
  assert.deepEqual(replacements, [
    { type: "PER", start: 3, end: 10, replacement: "[PER]" },
    { type: "PER", start: 15, end: 18, replacement: "[PER]" },
    { type: "ORG", start: 22, end: 26, replacement: "[ORG]" },
  ]);
});

test("redact with a mask one block per code point", () => {
  const { text } = redact("a 😀😀 b", [{ type: "EMOJI", start: 2, end: 6 }], { style: "mask" });
  assert.equal(text, "a ██ b");
  assert.equal(redact(TEXT, ENTITIES, { style: "mask" }).text, "😀 ███████ met ███ at ████");
});

test("redact with a salted hash: HMAC-SHA256(salt, text), stable, salt required", () => {
  const expected = createHmac("sha256", "pepper").update("Ann Lee").digest("hex").slice(0, 10);
  const first = redact(TEXT, ENTITIES, { style: "hash", salt: "pepper", types: ["PER"] });
  assert.equal(first.text, `😀 [PER:${expected}] met [PER:${first.replacements[1].replacement.slice(5, 15)}] at Acme`);
  assert.deepEqual(redact(TEXT, ENTITIES, { style: "hash", salt: "pepper", types: ["PER"] }), first);
  assert.notEqual(redact(TEXT, ENTITIES, { style: "hash", salt: "salt" }).text, first.text);
  assert.throws(() => redact(TEXT, ENTITIES, { style: "hash" }), (e: unknown) => e instanceof NerkitError && e.code === "E_USAGE");
});

test("redact only the listed types", () => {
  const { text, replacements } = redact(TEXT, ENTITIES, { style: "type", types: ["ORG"] });
  assert.equal(text, "😀 Ann Lee met Bob at [ORG]");
  assert.equal(replacements.length, 1);
});

test("redact covers overlapping entities with one replacement and refuses out-of-range ones", () => {
  const isSpanError = (e: unknown) => e instanceof NerkitError && e.code === "E_SPAN";
  // "Lee met" (score 0.9) overlaps "Ann Lee" (no score: 0): one replacement, typed by the higher score.
  const merged = redact(TEXT, [...ENTITIES, { type: "ORG", start: 7, end: 14, score: 0.9 }], { style: "type" });
  assert.equal(merged.text, "😀 [ORG] [PER] at [ORG]");
  assert.deepEqual(merged.replacements[0], { type: "ORG", start: 3, end: 14, replacement: "[ORG]" });
  assert.throws(() => redact(TEXT, [{ type: "PER", start: 20, end: 40 }], { style: "type" }), isSpanError);
  assert.throws(() => redact(TEXT, ENTITIES, { style: "blur" as "mask" }), (e: unknown) => e instanceof NerkitError && e.code === "E_USAGE");
});

test("property: with style type, each replacement's offsets pick a region of the original text that holds its spans", () => {
  const arbitrary = fc
    .tuple(fc.array(fc.constantFrom("a", " ", "é", "😀", "\n", "日"), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 12 }))
    .map(([chars, cuts]) => {
      const text = chars.join("");
      // Distinct sorted cut points, paired up, give non-overlapping non-empty spans.
      const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
      const spans = [];
      for (let i = 0; i + 1 < points.length; i += 2) spans.push({ type: i % 4 === 0 ? "PER" : "LOC", start: points[i], end: points[i + 1] });
      return { text, spans: spans.reverse() };
    });
  fc.assert(
    fc.property(arbitrary, ({ text, spans }) => {
      const { text: redacted, replacements } = redact(text, spans, { style: "type" });
      // Rebuild the original from the redacted text by putting each span back.
      let rebuilt = "";
      let from = 0;
      let shift = 0;
      for (const r of replacements) {
        const at = r.start + shift;
        assert.equal(redacted.slice(at, at + r.replacement.length), r.replacement);
        rebuilt += text.slice(from, r.start) + text.slice(r.start, r.end);
        from = r.end;
        shift += r.replacement.length - (r.end - r.start);
      }
      rebuilt += text.slice(from);
      assert.equal(rebuilt, text);
      assert.equal(redacted.length, text.length + shift);
      // Spans are widened to whole words (test/redact-words.test.ts): each lies inside one replacement.
      for (const span of spans) assert.equal(replacements.filter((r) => r.start <= span.start && span.end <= r.end).length, 1);
    }),
    RUNS,
  );
});

test("postprocess runs rules, merge and routing in order", () => {
  const text = "Ann Lee, IBAN DE89 3704 0044 0532 0130 00.";
  const result = postprocess(
    text,
    [
      { type: "PER", text: "Ann Lee", start: 0, end: 7, score: 0.85 },
      { type: "ORG", text: "IBAN DE89", start: 9, end: 18, score: 0.99 },
    ],
    { routing: { perType: { PER: { review: 0.9 } } } },
  );
  assert.deepEqual(
    result.entities.map((e) => [e.type, e.start, e.source, e.decision]),
    [["PER", 0, "model", "reject"], ["IBAN", 14, "rule", "accept"]],
  );
  assert.equal(result.decision, "accept");
});
