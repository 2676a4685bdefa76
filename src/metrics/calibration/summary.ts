// The readable summary `nerkit calibrate` prints: what was fitted (T, or each type's isotonic map
// and its number of breakpoints), quality before and after on the held-out data it was fitted on
// (ECE over 15 equal-width bins, NLL, Brier), the held-out counts per type, and the accept
// thresholds chosen for precision targets when there are any.

import { CalibrationFile } from "../calibration-file.js";
import { formatFixed, padStart } from "../numeric.js";

const fixed4 = (x: number) => formatFixed(x, 4);

function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : padStart(cell, widths[c]))).join("  ").trimEnd()).join("\n") + "\n";
}

/** The summary of a fitted calibration; `written` names the calibration.json written. */
export function calibrationSummary(calibration: CalibrationFile, written: string): string {
  const { data, before, after } = calibration;
  const lines: string[] = [];
  lines.push(`held-out data: ${data.path} (sha256 ${data.sha256.slice(0, 12)}…, ${data.sentences} sentences, ${data.entities} predicted entities)`);
  lines.push(
    calibration.method === "temperature"
      ? `method: temperature scaling, T = ${formatFixed(calibration.temperature, 4)} (logits are divided by T before the softmax)`
      : `method: isotonic regression per type (types with fewer held-out entities use "*", all types pooled)`,
  );
  lines.push("");
  lines.push("quality on the held-out data (fitted on it: an optimistic 'after'; measure on other data with nerkit evaluate --model)");
  lines.push(
    columns([
      ["", "before", "after"],
      ["ECE (15 equal-width bins)", fixed4(before.ece), fixed4(after.ece)],
      ["NLL", fixed4(before.nll), fixed4(after.nll)],
      ["Brier", fixed4(before.brier), fixed4(after.brier)],
    ]).trimEnd(),
  );
  lines.push("");
  const head = ["type", "predicted", "correct", "gold", "precision"];
  if (calibration.isotonic) head.push("isotonic map");
  const rows = [head];
  for (const [type, c] of calibration.counts) {
    const row = [type, String(c.predicted), String(c.correct), String(c.gold), c.predicted === 0 ? "-" : fixed4(c.correct / c.predicted)];
    if (calibration.isotonic) {
      const own = calibration.isotonic.get(type);
      row.push(own ? `${own.x.length} points` : `"*"`);
    }
    rows.push(row);
  }
  if (calibration.isotonic) rows.push(["*", "", "", "", "", `${calibration.isotonic.get("*")!.x.length} points`]);
  lines.push(columns(rows).trimEnd());
  if (calibration.thresholds) {
    lines.push("");
    lines.push("accept thresholds for precision targets (calibrated scores; serve --target-precision routes with them)");
    const table = [["type", "target", "confidence", "threshold", "lower bound", "accepted", "correct", "held out", "auto-accept"]];
    for (const [type, records] of calibration.thresholds) {
      for (const t of records) {
        table.push([
          type,
          String(t.target),
          String(t.confidence),
          t.threshold === null ? "none" : fixed4(t.threshold),
          t.lowerBound === null ? "-" : fixed4(t.lowerBound),
          String(t.accepted),
          String(t.correct),
          String(t.heldOut),
          fixed4(t.autoAcceptRate),
        ]);
      }
    }
    lines.push(columns(table).trimEnd());
  }
  lines.push("");
  lines.push(`wrote ${written}`);
  return lines.join("\n") + "\n";
}
