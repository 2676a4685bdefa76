// The seqeval fixture (../shared/fixtures/seqeval/cases.json) and the comparison of a report with
// seqeval's, number for number, shared by the library's and the command line's parity tests.

import assert from "node:assert/strict";
import { join } from "node:path";
import { EvaluationReport, EvaluationReportJson } from "../src/metrics/seqeval.js";
import { fixturesDir, readJson } from "./helpers.js";

export type SeqevalRow = { precision: number | null; recall: number | null; "f1-score": number | null; support: number };
export interface SeqevalResult {
  report: Record<string, SeqevalRow>;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
}
export interface SeqevalCase {
  id: string;
  scheme_of_tags?: string;
  y_true: string[][];
  y_pred: string[][];
  entities_true_default: [string, number, number][][];
  default: SeqevalResult;
  strict?: SeqevalResult & { scheme: string };
  strict_by_scheme?: Record<string, SeqevalResult | { error: string }>;
}

export const seqevalCases = readJson<{ cases: SeqevalCase[] }>(join(fixturesDir, "seqeval", "cases.json")).cases;

/** Each strict-mode expectation of a case: seqeval's result (or its error) per scheme. */
export function strictExpectations(c: SeqevalCase): [string, SeqevalResult | { error: string }][] {
  return Object.entries(c.strict_by_scheme ?? { [c.strict!.scheme]: c.strict! });
}

const AVERAGES = ["micro avg", "macro avg", "weighted avg"] as const;

/** Asserts that a report (the library's, or the JSON the CLI prints) equals seqeval's exactly. */
export function assertSameReport(actual: EvaluationReport | EvaluationReportJson, expected: SeqevalResult, label: string): void {
  assert.equal(actual.overall.precision, expected.precision, `${label}: precision`);
  assert.equal(actual.overall.recall, expected.recall, `${label}: recall`);
  assert.equal(actual.overall.f1, expected.f1, `${label}: f1`);
  assert.equal(actual.overall.accuracy, expected.accuracy, `${label}: accuracy`);
  const types = actual.types instanceof Map ? actual.types : new Map(Object.entries(actual.types));
  const expectedTypes = Object.keys(expected.report).filter((k) => !(AVERAGES as readonly string[]).includes(k));
  assert.deepEqual([...types.keys()], expectedTypes, `${label}: types in order`);
  const rows: [string, SeqevalRow][] = [...expectedTypes, ...AVERAGES].map((name) => [name, expected.report[name]]);
  for (const [name, row] of rows) {
    const got = types.get(name) ?? actual[name as (typeof AVERAGES)[number]];
    assert.deepEqual(
      { precision: got.precision, recall: got.recall, f1: got.f1, support: got.support },
      { precision: row.precision, recall: row.recall, f1: row["f1-score"], support: row.support },
      `${label}: row ${name}`,
    );
  }
}
