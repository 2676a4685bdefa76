// seqeval's classification_report as text, character for character: right-aligned columns,
// Python's round-half-even formatting, a blank line after the header, the types and the averages.
// Where seqeval would fail (no entity at all), the table is still printed with only the averages.

import { EvaluationReport } from "./seqeval.js";
import { formatFixed, padStart } from "./numeric.js";

export function classificationReport(report: EvaluationReport, digits = 2): string {
  const names = [...report.types.keys()];
  const width = Math.max(...names.map((name) => name.length), "weighted avg".length, digits);
  const number = (x: number | null) => padStart(x === null ? "nan" : formatFixed(x, digits), 9);
  const row = (name: string, p: number | null, r: number | null, f: number | null, support: number) =>
    `${padStart(name, width)}  ${number(p)} ${number(r)} ${number(f)} ${padStart(String(support), 9)}`;

  const header = `${" ".repeat(width)}  ${["precision", "recall", "f1-score", "support"].map((h) => padStart(h, 9)).join(" ")}`;
  const lines: string[] = [];
  for (const name of names) {
    const t = report.types.get(name)!;
    lines.push(row(name, t.precision, t.recall, t.f1, t.support));
  }
  lines.push("");
  for (const average of ["micro avg", "macro avg", "weighted avg"] as const) {
    const a = report[average];
    lines.push(row(average, a.precision, a.recall, a.f1, a.support));
  }
  lines.push("");
  return `${header}\n\n${lines.join("\n")}`;
}
