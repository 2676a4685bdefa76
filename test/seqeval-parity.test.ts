// Parity with seqeval on every case of ../shared/fixtures/seqeval/cases.json: entities, default
// mode and strict mode under each case's scheme, compared number for number.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { conllevalChunks } from "../src/data/chunks.js";
import { schemeByName } from "../src/data/schemes.js";
import { evaluate, EvaluationReport } from "../src/metrics/seqeval.js";
import { fixturesDir, readJson } from "./helpers.js";

type Row = { precision: number | null; recall: number | null; "f1-score": number | null; support: number };
interface Expected {
  report: Record<string, Row>;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
}
interface Case {
  id: string;
  scheme_of_tags?: string;
  y_true: string[][];
  y_pred: string[][];
  entities_true_default: [string, number, number][][];
  default: Expected;
  strict?: Expected & { scheme: string };
  strict_by_scheme?: Record<string, Expected | { error: string }>;
}

const fixture = readJson<{ cases: Case[] }>(join(fixturesDir, "seqeval", "cases.json"));

function assertSameReport(actual: EvaluationReport, expected: Expected, label: string): void {
  assert.equal(actual.overall.precision, expected.precision, `${label}: precision`);
  assert.equal(actual.overall.recall, expected.recall, `${label}: recall`);
  assert.equal(actual.overall.f1, expected.f1, `${label}: f1`);
  assert.equal(actual.overall.accuracy, expected.accuracy, `${label}: accuracy`);
  const averages = ["micro avg", "macro avg", "weighted avg"] as const;
  const expectedTypes = Object.keys(expected.report).filter((k) => !(averages as readonly string[]).includes(k));
  assert.deepEqual(Object.keys(actual.types), expectedTypes, `${label}: types in order`);
  const rows: [string, Row][] = [
    ...expectedTypes.map((t) => [t, expected.report[t]] as [string, Row]),
    ...averages.map((a) => [a, expected.report[a]] as [string, Row]),
  ];
  for (const [name, row] of rows) {
    const got = name in actual.types ? actual.types[name] : actual[name as (typeof averages)[number]];
    assert.deepEqual(
      { precision: got.precision, recall: got.recall, f1: got.f1, support: got.support },
      { precision: row.precision, recall: row.recall, f1: row["f1-score"], support: row.support },
      `${label}: row ${name}`,
    );
  }
}

test("fixture holds 245 cases", () => {
  assert.equal(fixture.cases.length, 245);
});

test("default-mode entities equal seqeval's get_entities", () => {
  for (const c of fixture.cases) {
    const actual = c.y_true.map((tags) => conllevalChunks(tags).map((e) => [e.type, e.start, e.end - 1]));
    assert.deepEqual(actual, c.entities_true_default, c.id);
  }
});

test("default mode equals seqeval on every case", () => {
  for (const c of fixture.cases) assertSameReport(evaluate(c.y_true, c.y_pred), c.default, c.id);
});

test("strict mode equals seqeval on every case and scheme", () => {
  let checked = 0;
  for (const c of fixture.cases) {
    const strict: Record<string, Expected | { error: string }> = c.strict_by_scheme ?? { [c.strict!.scheme]: c.strict! };
    for (const [scheme, expected] of Object.entries(strict)) {
      const run = () => evaluate(c.y_true, c.y_pred, { mode: "strict", scheme: schemeByName(scheme) });
      if ("error" in expected) {
        assert.throws(run, /not allowed in/, `${c.id} ${scheme}: seqeval raised ${expected.error}`);
      } else {
        assertSameReport(run(), expected, `${c.id} strict ${scheme}`);
      }
      checked++;
    }
  }
  assert.equal(checked, 238 + 14);
});
