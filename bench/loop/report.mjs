// What the loop bench shows of its rows (one per order and round: reviews spent, test F1 of the
// serving version, retrain seconds, the gate's decision and reason): a table, an ASCII chart of
// test F1 against reviews spent (one letter per order), and issue 12 §4's three goals checked.
// Left out: running anything (run.mjs, service.mjs).

const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(2));

/** A Markdown table of every row. */
export function table(rows) {
  const lines = [
    "| order | round | reviews | serving | test F1 | dev F1 (serving → candidate) | retrain s | gate | reason |",
    "|---|---:|---:|---|---:|---|---:|---|---|",
  ];
  for (const r of rows) {
    const dev = r.gate ? `${pct(r.gate.serving.microF1)} → ${pct(r.gate.candidate.microF1)}` : "—";
    lines.push(`| ${r.order} | ${r.round} | ${r.reviews} | ${r.serving} | ${pct(r.testF1)} | ${dev} | ${r.retrainSeconds === undefined ? "—" : r.retrainSeconds.toFixed(0)} | ${r.decision ?? "—"} | ${(r.reason ?? r.error ?? "").replaceAll("|", "/")} |`);
  }
  return lines.join("\n");
}

/** Test F1 (y) against reviews spent (x) as text, one letter per order (first letter; * where two meet). */
export function chart(rows, width = 60, height = 16) {
  const points = rows.filter((r) => r.testF1 !== undefined);
  if (points.length === 0) return "(no points)";
  const maxX = Math.max(1, ...points.map((p) => p.reviews));
  const ys = points.map((p) => p.testF1);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (hi - lo < 1e-3) (lo -= 0.005), (hi += 0.005);
  const grid = Array.from({ length: height }, () => Array(width + 1).fill(" "));
  for (const p of points) {
    const x = Math.round((p.reviews / maxX) * width);
    const y = height - 1 - Math.round(((p.testF1 - lo) / (hi - lo)) * (height - 1));
    const mark = p.order[0];
    grid[y][x] = grid[y][x] === " " || grid[y][x] === mark ? mark : "*";
  }
  const lines = grid.map((row, i) => {
    const value = hi - ((hi - lo) * i) / (height - 1);
    return `${(100 * value).toFixed(1).padStart(6)} |${row.join("")}`;
  });
  lines.push(`${" ".repeat(7)}+${"-".repeat(width + 1)}`);
  lines.push(`${" ".repeat(8)}0${String(maxX).padStart(width)} reviews`);
  const orders = [...new Set(points.map((p) => p.order))];
  lines.push(`test F1 (%) against reviews spent; ${orders.map((o) => `${o[0]} = ${o}`).join(", ")}; * = several`);
  return lines.join("\n");
}

/**
 * The issue's goals over the rows: { name, met (true/false/null when not measurable), detail }.
 * minutes: a retrain round "takes minutes" when its wall time stays under this many.
 */
export function goals(rows, minutes = 30) {
  const byOrder = new Map();
  for (const r of rows) byOrder.set(r.order, [...(byOrder.get(r.order) ?? []), r]);
  const out = [];

  const random = byOrder.get("random"), uncertainty = byOrder.get("uncertainty");
  const learnt = random && random.at(-1).reviews > 0 && random.at(-1).testF1 > random[0].testF1;
  if (random && uncertainty && learnt) {
    const last = random.at(-1);
    const reached = uncertainty.find((r) => r.testF1 >= last.testF1);
    const budget = 0.6 * last.reviews;
    out.push({
      name: "uncertainty reaches random's final F1 with ≤ 60% of its reviews",
      met: reached !== undefined && reached.reviews <= budget,
      detail: reached
        ? `random ends at ${pct(last.testF1)} after ${last.reviews} reviews; uncertainty reaches it after ${reached.reviews} (${((100 * reached.reviews) / Math.max(1, last.reviews)).toFixed(0)}%; the goal allows ${Math.floor(budget)})`
        : `random ends at ${pct(last.testF1)} after ${last.reviews} reviews; uncertainty never reaches it (best ${pct(Math.max(...uncertainty.map((r) => r.testF1)))})`,
    });
  } else out.push({ name: "uncertainty against random", met: null, detail: random && uncertainty ? `not measurable: random's final F1 (${pct(random.at(-1).testF1)}) is no better than the first version's (${pct(random[0].testF1)})` : "needs both orders" });

  const falls = [];
  for (const [order, list] of byOrder) {
    // The serving version's test F1 each time it changed (the first version, then each promotion).
    const changes = list.filter((r, i) => i === 0 || r.serving !== list[i - 1].serving);
    for (let i = 1; i < changes.length; i++) {
      if (changes[i].testF1 < changes[i - 1].testF1) falls.push(`${order} round ${changes[i].round}: ${changes[i - 1].serving} ${pct(changes[i - 1].testF1)} → ${changes[i].serving} ${pct(changes[i].testF1)}`);
    }
  }
  out.push({ name: "serving test F1 never falls from one promotion to the next", met: falls.length === 0, detail: falls.length === 0 ? "no fall" : falls.join("; ") });

  const retrains = rows.filter((r) => r.retrainSeconds !== undefined).map((r) => r.retrainSeconds);
  const longest = retrains.length > 0 ? Math.max(...retrains) : undefined;
  out.push({
    name: `a retrain round takes minutes (under ${minutes} min)`,
    met: longest === undefined ? null : longest < minutes * 60,
    detail: longest === undefined ? "no retrain ran" : `longest ${(longest / 60).toFixed(1)} min, median ${(retrains.sort((a, b) => a - b)[Math.floor(retrains.length / 2)] / 60).toFixed(1)} min over ${retrains.length}`,
  });
  return out;
}

export function goalLines(list) {
  return list.map((g) => `- [${g.met === null ? "?" : g.met ? "x" : " "}] ${g.name}: ${g.detail}`).join("\n");
}
