// Regression: an entity type named "__proto__" vanished from per-type reports while the totals
// counted it (it was assigned as a plain-object key, which sets the prototype instead), and one
// named "constructor" could be confused with Object.prototype's. Reports, confusion tables and
// corpus statistics keep types in Maps; their JSON forms still print every type.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { corpusStats, formatStats, statsJson } from "../src/data/stats.js";
import { classificationReport } from "../src/metrics/classification-report.js";
import { confusion, confusionJson } from "../src/metrics/confusion.js";
import { htmlReport } from "../src/metrics/html-report.js";
import { evaluate, reportJson } from "../src/metrics/seqeval.js";
import { nerkit, tempDir } from "./helpers.js";

// Gold: __proto__ (2 tokens), constructor, PER; predicted: __proto__ right, constructor as PER.
const GOLD = [["B-__proto__", "I-__proto__", "O", "B-constructor", "B-PER"]];
const PRED = [["B-__proto__", "I-__proto__", "O", "B-PER", "B-PER"]];
const TYPES = ["PER", "__proto__", "constructor"]; // code-point order: P < _ < c

test("evaluate: __proto__ and constructor are rows like any other type, in the Map and in the JSON", () => {
  const report = evaluate(GOLD, PRED);
  assert.deepEqual([...report.types.keys()], TYPES);
  assert.deepEqual(report.types.get("__proto__"), { precision: 1, recall: 1, f1: 1, support: 1 });
  assert.deepEqual(report.types.get("constructor"), { precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(report.types.get("PER"), { precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
  assert.equal(report["micro avg"].support, 3);
  const json = JSON.parse(JSON.stringify(reportJson(report)));
  assert.deepEqual(Object.keys(json.types), TYPES);
  assert.deepEqual(json.types.__proto__, { precision: 1, recall: 1, f1: 1, support: 1 });
  assert.equal(json.types.constructor.support, 1);
  const text = classificationReport(report);
  assert.match(text, /^ +__proto__ +1\.00 +1\.00 +1\.00 +1$/m);
  assert.match(text, /^ +constructor +0\.00 +0\.00 +0\.00 +1$/m);
});

test("confusion and the HTML report keep __proto__ and constructor", () => {
  const table = confusion(GOLD, PRED);
  assert.deepEqual(table.labels, [...TYPES, "O"]);
  assert.deepEqual([...table.entities.keys()], TYPES);
  assert.equal(table.entities.get("__proto__")!.correct, 1);
  assert.equal(table.entities.get("constructor")!.wrongType, 1);
  assert.equal(table.entityTypes.get("constructor")!.get("PER"), 1);
  assert.equal(table.tokens.get("__proto__")!.get("__proto__"), 2);
  const json = JSON.parse(JSON.stringify(confusionJson(table)));
  assert.deepEqual(Object.keys(json.entities), TYPES);
  assert.deepEqual(Object.keys(json.tokens.__proto__), [...TYPES, "O"]);
  assert.equal(json.entityTypes.constructor.PER, 1);
  const html = htmlReport({ report: evaluate(GOLD, PRED), confusion: table });
  assert.equal(html.match(/<th>__proto__<\/th>/g)?.length, 6, "a row in the scores and errors tables, a row and a column in both confusion tables");
});

test("corpus statistics count __proto__ and constructor per type", () => {
  const stats = corpusStats(GOLD.map((tags) => ({ tags })));
  assert.deepEqual([...stats.entitiesPerType], [["PER", 1], ["__proto__", 1], ["constructor", 1]]);
  assert.equal(stats.entityLengthPerType.get("__proto__")!.max, 2);
  const json = JSON.parse(JSON.stringify(statsJson(stats)));
  assert.deepEqual(json.entitiesPerType, JSON.parse('{"PER": 1, "__proto__": 1, "constructor": 1}'));
  assert.equal(json.entityLengthPerType.__proto__.max, 2);
  assert.match(formatStats(stats), /^ {2}__proto__ +1 {2}length: min 2/m);
});

test("nerkit evaluate and stats print __proto__ and constructor (JSON and text)", (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conll = (tags: string[]) => tags.map((tag, i) => `w${i} ${tag}`).join("\n") + "\n";
  const gold = join(dir, "gold.conll");
  const pred = join(dir, "pred.conll");
  writeFileSync(gold, conll(GOLD[0]));
  writeFileSync(pred, conll(PRED[0]));
  const evaluated = nerkit(["evaluate", "--gold", gold, "--pred", pred, "--format", "json"]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout);
  assert.deepEqual(Object.keys(report.types), TYPES);
  assert.equal(report.types.__proto__.f1, 1);
  const stats = nerkit(["stats", gold, "--format", "json"]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.deepEqual(Object.keys(JSON.parse(stats.stdout).entitiesPerType), TYPES);
});
