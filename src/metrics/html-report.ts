// A self-contained HTML evaluation report (no scripts, no external files): the seqeval table, a
// bar chart of precision, recall and F1 per type drawn in inline SVG, the entity-level error
// breakdown and the token-level confusion table between gold and predicted types; for a model's
// scores, the calibration section (entity-level ECE, reliability diagrams and tables).

import { ConfusionReport, ERROR_KINDS } from "./confusion.js";
import { formatFixed } from "./numeric.js";
import { EvaluationReport } from "./seqeval.js";
import { CalibrationEvaluation } from "./calibration/evaluation.js";
import { ECE_BINS, ReliabilityBin } from "./calibration/quality.js";
import { reliabilityDiagram } from "./calibration/reliability-diagram.js";

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const score = (x: number | null) => (x === null ? "–" : formatFixed(x, 4));

const COLOURS = { precision: "#4e79a7", recall: "#f28e2b", f1: "#59a14f" } as const;

function chart(report: EvaluationReport): string {
  const types = [...report.types.keys()];
  const bar = 14;
  const group = bar * 3 + 16;
  const left = 110;
  const width = 420;
  const height = Math.max(1, types.length) * group + 30;
  const parts: string[] = [];
  types.forEach((type, i) => {
    const y = i * group + 8;
    parts.push(`<text x="${left - 8}" y="${y + bar * 1.5 + 4}" text-anchor="end">${escape(type)}</text>`);
    (["precision", "recall", "f1"] as const).forEach((metric, k) => {
      const value = report.types.get(type)![metric];
      const w = Math.max(0, value * width);
      parts.push(
        `<rect x="${left}" y="${y + k * bar}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${COLOURS[metric]}"><title>${escape(type)} ${metric} ${score(value)}</title></rect>`,
        `<text x="${left + w + 4}" y="${y + k * bar + bar - 4}" class="v">${score(value)}</text>`,
      );
    });
  });
  const axis = height - 18;
  parts.push(`<line x1="${left}" y1="${axis}" x2="${left + width}" y2="${axis}" stroke="#999"/>`);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<text x="${left + tick * width}" y="${axis + 14}" text-anchor="middle" class="v">${tick}</text>`);
  }
  const legend = (Object.keys(COLOURS) as (keyof typeof COLOURS)[])
    .map((m) => `<span class="key" style="background:${COLOURS[m]}"></span>${m}`)
    .join(" ");
  return `<p class="legend">${legend}</p><svg width="${left + width + 70}" height="${height}" role="img" aria-label="scores per type">${parts.join("")}</svg>`;
}

function table(head: string[], rows: (string | number)[][], firstIsHeader = true): string {
  const th = head.map((h) => `<th>${escape(h)}</th>`).join("");
  const body = rows
    .map((row) => `<tr>${row.map((cell, i) => (i === 0 && firstIsHeader ? `<th>${escape(String(cell))}</th>` : `<td>${escape(String(cell))}</td>`)).join("")}</tr>`)
    .join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export interface HtmlReportInput {
  title?: string;
  report: EvaluationReport;
  confusion: ConfusionReport;
  /** What was compared, for the page's subtitle. */
  description?: string;
  /** A model's scores: their calibration quality (evaluate --model). */
  calibration?: CalibrationEvaluation;
}

function reliabilityRows(bins: readonly ReliabilityBin[]): (string | number)[][] {
  const value = (x: number | null) => (x === null ? "–" : formatFixed(x, 4));
  return bins.map((b) => [`[${formatFixed(b.low, 3)}, ${formatFixed(b.high, 3)}${b.high === 1 ? "]" : ")"}`, b.count, value(b.confidence), value(b.accuracy)]);
}

function calibrationSection({ raw, calibrated }: CalibrationEvaluation): string {
  const quality = (name: string, r: CalibrationEvaluation["raw"]) => [name, r.entities, score(r.ece), score(r.nll), score(r.brier)];
  const name = calibrated ? (calibrated.method === "temperature" ? `calibrated (temperature ${formatFixed(calibrated.temperature, 4)})` : "calibrated (isotonic)") : "";
  const rows = [quality("raw scores", raw), ...(calibrated ? [quality(name, calibrated)] : [])];
  const head = ["bin", "entities", "mean score", "accuracy"];
  return `<h2>Calibration</h2>
<p class="note">Is an entity scoring 0.9 right 90% of the time? Entity level: an entity is right when a gold entity has its type and boundaries. Expected calibration error over ${ECE_BINS} equal-width score bins: the count-weighted mean gap between each bin's mean score and its accuracy. In the diagrams, bars are each bin's accuracy, dots its (mean score, accuracy), numbers its entities; dots on the dashed diagonal are well calibrated.${calibrated ? " Calibrated scores apply the model folder's calibration.json." : " The model folder has no calibration.json (nerkit calibrate makes one)."}</p>
${table(["scores", "entities", "ECE", "NLL", "Brier"], rows)}
<p>${reliabilityDiagram(raw.bins, "raw scores")}${calibrated ? reliabilityDiagram(calibrated.bins, name) : ""}</p>
${table(head, reliabilityRows(raw.bins))}
${calibrated ? `<p class="note">${escape(name)}</p>\n${table(head, reliabilityRows(calibrated.bins))}` : ""}
`;
}

export function htmlReport({ title = "nerkit evaluation", report, confusion, description, calibration }: HtmlReportInput): string {
  const rows: (string | number)[][] = [...report.types].map(([t, s]) => [t, score(s.precision), score(s.recall), score(s.f1), s.support]);
  for (const avg of ["micro avg", "macro avg", "weighted avg"] as const) {
    const a = report[avg];
    rows.push([avg, score(a.precision), score(a.recall), score(a.f1), a.support]);
  }
  const kinds = ERROR_KINDS.map((k) => k.replace(/[A-Z]/g, (c) => " " + c.toLowerCase()));
  const errorRows = [...confusion.entities].map(([type, counts]) => [type, ...ERROR_KINDS.map((k) => counts[k])]);
  const tokenRows = confusion.labels.map((g) => [g, ...confusion.labels.map((p) => confusion.tokens.get(g)!.get(p)!)]);
  const typeNames = [...confusion.entityTypes.keys()];
  const entityTypeRows = typeNames.map((g) => [g, ...typeNames.map((p) => confusion.entityTypes.get(g)!.get(p)!)]);
  const o = report.overall;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
thead th{background:#f4f4f4}tbody th{text-align:left;font-weight:600}
.summary span{display:inline-block;margin-right:1.5rem}.v{font-size:11px;fill:#555}
svg text{font-size:12px}.key{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em}
.note{color:#666;font-size:12px}
</style></head><body>
<h1>${escape(title)}</h1>
${description ? `<p class="note">${escape(description)}</p>` : ""}
<p class="summary"><span>precision <b>${score(o.precision)}</b></span><span>recall <b>${score(o.recall)}</b></span><span>F1 <b>${score(o.f1)}</b></span><span>token accuracy <b>${score(o.accuracy)}</b></span></p>
<h2>Scores per type</h2>
${chart(report)}
${table(["", "precision", "recall", "f1-score", "support"], rows)}
<h2>Entity errors</h2>
<p class="note">Each gold entity is correct, of the wrong type (same boundaries), of the wrong boundary (overlapping, same type), wrong in both, or missed; each predicted entity that overlaps no gold entity is spurious (counted under its predicted type).</p>
${table(["type", ...kinds], errorRows)}
<h2>Entity types, exact boundaries (gold rows, predicted columns)</h2>
${table(["gold \\ predicted", ...typeNames], entityTypeRows)}
<h2>Token-level confusion (gold rows, predicted columns)</h2>
${table(["gold \\ predicted", ...confusion.labels], tokenRows)}
${calibration ? calibrationSection(calibration) : ""}</body></html>
`;
}
