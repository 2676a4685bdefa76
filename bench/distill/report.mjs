// What the distillation bench shows of its rows (one per model and precision: dev and test F1,
// tokens/s, ms for one 100-token text, size on disk): a Markdown table, issue 13 §4's goals as
// met/missed with their numbers, the load test's rows, and the stage timings. Speed-ups are
// against the teacher at the same precision; the goals compare fp32 with fp32 (int8 speed-ups are
// in the table). Left out: running anything (run.mjs, measure.mjs).

const pct = (x) => (Number.isFinite(x) ? (100 * x).toFixed(2) : "—");
const fixed = (x, digits = 0) => (Number.isFinite(x) ? x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "—");
const ratio = (a, b) => (b > 0 && Number.isFinite(a / b) ? a / b : NaN);
const megabytes = (bytes) => (bytes / 1e6).toFixed(1);
const percentOf = (a, b) => (Number.isFinite(ratio(a, b)) ? `${pct(ratio(a, b))}%` : "—");

/** The fp32 or int8 row of the teacher. */
export const teacherRow = (rows, precision) => rows.find((r) => r.role === "teacher" && r.precision === precision);
export const findRow = (rows, size, role, precision = "fp32") => rows.find((r) => r.size === size && r.role === role && r.precision === precision);

export function table(rows) {
  const lines = [
    "| model | trained | precision | dev F1 | test F1 | test F1 / teacher's | tokens/s | speed-up | ms, one 100-token text | latency speed-up | size on disk (MB) |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const t = teacherRow(rows, r.precision);
    lines.push(
      `| ${r.size} | ${r.role} | ${r.precision} | ${pct(r.devF1)} | ${pct(r.testF1)} | ${percentOf(r.testF1, t.testF1)} | ${fixed(r.tokensPerSecond)} | ` +
        `${fixed(ratio(r.tokensPerSecond, t.tokensPerSecond), 2)}× | ${fixed(r.latencyMs, 1)} | ${fixed(ratio(t.latencyMs, r.latencyMs), 2)}× | ${megabytes(r.bytes)} |`,
    );
  }
  return lines.join("\n");
}

/** Issue 13 §4's goals, each {goal, met, detail}. */
export function goals(rows, load) {
  const teacher = teacherRow(rows, "fp32");
  const out = [];
  for (const [size, share, speedUp, direct] of [["bert-mini", 0.97, 3, true], ["bert-tiny", 0.9, 8, false]]) {
    const r = findRow(rows, size, "distilled");
    if (!r) continue;
    const kept = ratio(r.testF1, teacher.testF1);
    const faster = ratio(r.tokensPerSecond, teacher.tokensPerSecond);
    out.push({ goal: `distilled ${size} keeps ≥ ${100 * share}% of the teacher's test F1`, met: kept >= share, detail: `${pct(r.testF1)} / ${pct(teacher.testF1)} = ${percentOf(r.testF1, teacher.testF1)}` });
    out.push({ goal: `distilled ${size} runs ≥ ${speedUp}× the teacher's tokens/s (fp32)`, met: faster >= speedUp, detail: `${fixed(r.tokensPerSecond)} / ${fixed(teacher.tokensPerSecond)} = ${fixed(faster, 2)}×; one 100-token text ${fixed(ratio(teacher.latencyMs, r.latencyMs), 2)}× faster` });
    const d = findRow(rows, size, "direct");
    if (direct && d) out.push({ goal: `distilled ${size} beats ${size} trained directly (test F1)`, met: r.testF1 > d.testF1, detail: `${pct(r.testF1)} vs ${pct(d.testF1)}` });
  }
  if (load) {
    const on = load.rows.find((r) => r.batching === "on") ?? load.rows[0];
    out.push({ goal: `serve, ${load.label}, ${on.clients} clients: p99 < 50 ms`, met: on.p99 < 50, detail: `p99 ${on.p99} ms (p50 ${on.p50} ms, ${on.rps.toFixed(1)} requests/s)` });
    out.push({ goal: `serve, ${load.label}, ${on.clients} clients: 0 errors`, met: on.errors === 0 && on.timeouts === 0, detail: `${on.errors} errors, ${on.timeouts} timeouts of ${on.requests} requests` });
  }
  return out;
}

export const goalLines = (list) => list.map((g) => `- ${g.met ? "MET" : "MISSED"}: ${g.goal} (${g.detail})`).join("\n");

export function loadTable(load) {
  const lines = [
    `${load.label}: one ${load.tokens}-token text per POST /v1/entities, ${load.threads} ONNX Runtime threads, ${load.seconds} s per row (bench/serve/load.mjs)`,
    "",
    "| micro-batching | clients | requests/s | p50 (ms) | p99 (ms) | errors | timeouts |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of load.rows) lines.push(`| ${r.batching} | ${r.clients} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.timeouts} |`);
  return lines.join("\n");
}

export function timingLines(timings) {
  return timings.map((t) => `- ${t.stage}: ${t.seconds.toFixed(0)} s${t.reused ? " (made by an earlier run, reused)" : ""}`).join("\n");
}
