// Entity-level precision, recall and F1 exactly as seqeval computes them (classification_report,
// precision/recall/f1_score with zero_division=0, accuracy_score), in float64 with numpy's order
// of summation, so every number equals seqeval's. Default and strict modes differ only in how
// tags become entities (see ../data/chunks.ts).

import { NerkitError } from "../errors.js";
import { CorpusCounts, EvaluateOptions, TypeCounts, countEntities } from "./entity-counts.js";
import { compareCodePoints } from "../text/code-point-order.js";
import { numpySum } from "./numeric.js";

export interface TypeScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** An average row; a macro average over no types has null scores (seqeval gives NaN). */
export interface AverageScores {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

export interface EvaluationReport {
  overall: { precision: number; recall: number; f1: number; accuracy: number };
  /** Per entity type, in code-point order. A Map because types are user data: a type named
   *  "__proto__" or "constructor" is a type like any other. */
  types: Map<string, TypeScores>;
  "micro avg": AverageScores;
  "macro avg": AverageScores;
  "weighted avg": AverageScores;
}

/** The report as `nerkit evaluate --format json` prints it: `types` as an object. */
export interface EvaluationReportJson extends Omit<EvaluationReport, "types"> {
  types: Record<string, TypeScores>;
}

/** sklearn's _prf_divide with zero_division=0. */
function divide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function f1Of(precision: number, recall: number): number {
  const denominator = precision + recall;
  return (2 * precision * recall) / (denominator === 0 ? 1 : denominator);
}

function scoresOf(counts: TypeCounts): TypeScores {
  const precision = divide(counts.correct, counts.predicted);
  const recall = divide(counts.correct, counts.gold);
  return { precision, recall, f1: f1Of(precision, recall), support: counts.gold };
}

/** The report from per-type counts; the entry point for callers that count entities themselves. */
export function reportFromCounts(counts: CorpusCounts): EvaluationReport {
  const names = [...counts.types.keys()].sort(compareCodePoints);
  const rows = names.map((name) => scoresOf(counts.types.get(name)!));
  const types = new Map(names.map((name, i) => [name, rows[i]]));

  const total = { correct: 0, predicted: 0, gold: 0 };
  for (const c of counts.types.values()) {
    total.correct += c.correct;
    total.predicted += c.predicted;
    total.gold += c.gold;
  }
  const micro = scoresOf(total);
  const column = (key: keyof TypeScores) => rows.map((row) => row[key]);
  const support = total.gold;

  const macro: AverageScores =
    rows.length === 0
      ? { precision: null, recall: null, f1: null, support }
      : {
          precision: numpySum(column("precision")) / rows.length,
          recall: numpySum(column("recall")) / rows.length,
          f1: numpySum(column("f1")) / rows.length,
          support,
        };

  const weights = column("support");
  const weightSum = numpySum(weights);
  const weightedMean = (values: number[]) => numpySum(values.map((v, i) => v * weights[i])) / weightSum;
  const weighted: AverageScores =
    weightSum === 0
      ? { precision: 0, recall: 0, f1: 0, support }
      : {
          precision: weightedMean(column("precision")),
          recall: weightedMean(column("recall")),
          f1: weightedMean(column("f1")),
          support,
        };

  if (counts.tokens === 0) throw new NerkitError("E_FORMAT", "there are no tokens to evaluate");
  return {
    overall: { precision: micro.precision, recall: micro.recall, f1: micro.f1, accuracy: counts.correctTokens / counts.tokens },
    types,
    "micro avg": micro,
    "macro avg": macro,
    "weighted avg": weighted,
  };
}

/** The JSON form of a report. Object.fromEntries defines own properties, so a type named
 *  "__proto__" is printed like the others (an assignment would have set the prototype). */
export function reportJson(report: EvaluationReport): EvaluationReportJson {
  const { overall, types, ...averages } = report;
  return { overall, types: Object.fromEntries(types), ...averages };
}

/**
 * Evaluates predicted tag sequences against gold ones, one array of tags per sentence.
 * The result is the object `nerkit evaluate --format json` prints.
 */
export function evaluate(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  options: EvaluateOptions = {},
): EvaluationReport {
  return reportFromCounts(countEntities(gold, pred, options));
}
