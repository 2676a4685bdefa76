// Issue 11 §5 on CoNLL-2003 (calibrate on dev, measure on test), for a model trained on it:
// 1. `nerkit calibrate --target-precision 0.9 --target-precision 0.95` on dev, both methods (the CLI,
//    into copies of the model: --out);
// 2. entity-level ECE (15 bins) on test before and after (`nerkit evaluate --format json`, checked
//    against the same numbers computed in process), and in distribution: fitted on alternate
//    -DOCSTART- documents of dev, measured on the others (both ways round);
// 3. for each target and type, the realised precision of auto-accepted test entities (calibrated
//    score ≥ the recorded threshold) and the auto-accept rate, beside the uncalibrated fixed
//    thresholds (raw ≥ 0.95 accepted, [0.80, 0.95) review); and that the calibrated `score` the
//    pipeline gives (what serve routes on) equals the held-out sample's calibrated score;
// 4. the audit estimate against the truth on a simulated stream through the service
//    (audit-stream.mjs).
// Usage: npm run build && node bench/calibration/run.mjs [--model DIR] [--data DIR] [--threads 2]
//   [--audit-rate 0.2] [--audit-seed 2026] [--audit-method temperature] [--check-sentences 300]
//   [--replicates 1000]
// The model folder is only read (calibrate writes copies into a temp folder, removed at the end).
// Left out: drift (bench/drift/drift.mjs).

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline } from "../../dist/src/infer/pipeline.js";
import { heldOutSamples, fitCalibration } from "../../dist/src/train/calibration-fit.js";
import { readLabelledData } from "../../dist/src/train/evaluate-file.js";
import { calibratedOutcomesByType, calibratedSamples } from "../../dist/src/metrics/calibration/apply.js";
import { addPrecisionTarget, chooseThresholds, noTargets } from "../../dist/src/metrics/precision-thresholds.js";
import { calibrationQuality } from "../../dist/src/metrics/calibration/quality.js";
import { readModelCalibration } from "../../dist/src/model/checkpoint/calibration.js";
import { wilsonInterval } from "../../dist/src/metrics/precision-bounds.js";
import { acceptanceByType, alternateHalves, fixedBandsByType, joinedText, spanKey, wordSpan } from "./measures.mjs";
import { auditStream, replicateCoverage } from "./audit-stream.mjs";

const root = join(import.meta.dirname, "..", "..");
const flag = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const model = flag("--model", join(root, "bench", "out", "conll", "model"));
const dataDir = flag("--data", join(shared, "data", "conll2003"));
const threads = flag("--threads", "2");
const auditRate = Number(flag("--audit-rate", "0.2"));
const auditSeed = Number(flag("--audit-seed", "2026"));
const auditMethod = flag("--audit-method", "temperature");
const checkSentences = Number(flag("--check-sentences", "300"));
const replicates = Number(flag("--replicates", "1000"));
const METHODS = ["temperature", "isotonic"];
const TARGETS = [0.9, 0.95];
const devFile = join(dataDir, "dev.conll");
const testFile = join(dataDir, "test.conll");

const clock = performance.now();
const seconds = () => ((performance.now() - clock) / 1000).toFixed(0);
const log = (line) => console.error(`[${seconds()} s] ${line}`);
const f3 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(3));
const f4 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(4));
const pct = (x) => `${(100 * x).toFixed(1)}%`;

function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r, i) => `| ${r.map((v, c) => v.padEnd(widths[c])).join(" | ")} |` + (i === 0 ? `\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|` : "")).join("\n");
}

/** Runs bin/nerkit.js; its stdout, or an error with its stderr. */
function nerkit(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "bin", "nerkit.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`nerkit ${args.join(" ")}: exit ${code}\n${err}`))));
  });
}

const tmp = mkdtempSync(join(tmpdir(), "nerkit-calbench-"));
const report = [];
const say = (text = "") => {
  report.push(text);
  console.log(text);
};
try {
  say(`model ${model}; data ${dataDir}; threads ${threads}; ${new Date().toISOString()}`);

  // 1. Calibrate on dev with the CLI, both methods, into copies of the model.
  const calibrated = new Map();
  for (const method of METHODS) {
    const out = join(tmp, `model-${method}`);
    const t0 = performance.now();
    const run = await nerkit(["calibrate", "--model", model, "--data", devFile, "--method", method, ...TARGETS.flatMap((t) => ["--target-precision", String(t)]), "--out", out, "--threads", threads, "--no-profile"]);
    log(`calibrate --method ${method}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const warnings = run.err.split("\n").filter((l) => /warning|no auto-accept/i.test(l));
    calibrated.set(method, { dir: out, calibration: readModelCalibration(out), warnings });
  }

  // 2. Test samples in process (raw scores and logits do not depend on the calibration).
  const raw = await loadPipeline(model, { threads: Number(threads), calibration: false });
  const test = readLabelledData(testFile);
  let t0 = performance.now();
  const testHeld = await heldOutSamples(raw, test);
  log(`test tagged in process: ${test.sentences.length} sentences, ${testHeld.samples.length} predicted entities, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const rawQuality = calibrationQuality(testHeld.samples.map((s) => ({ score: s.rawScore, correct: s.correct })));

  say("\n## ECE on test (entity level, 15 bins), calibrated on dev");
  const eceRows = [];
  for (const method of METHODS) {
    const { dir, calibration } = calibrated.get(method);
    t0 = performance.now();
    const evaluation = JSON.parse((await nerkit(["evaluate", "--model", dir, "--data", testFile, "--format", "json", "--threads", threads])).out);
    log(`evaluate (${method}) on test: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const cli = evaluation.calibration;
    const mine = calibrationQuality(calibratedSamples(testHeld.samples, calibration));
    // The CLI and the in-process samples must agree: same tagger, same samples.
    const gap = Math.max(Math.abs(cli.raw.ece - rawQuality.ece), Math.abs(cli.calibrated.ece - mine.ece));
    if (gap > 1e-9) say(`WARNING: evaluate's ECE and the in-process ECE differ by ${gap} (${method})`);
    calibrated.get(method).testSamples = calibratedSamples(testHeld.samples, calibration);
    eceRows.push([method, method === "temperature" ? `T = ${calibration.temperature.toFixed(4)}` : `${calibration.isotonic.size} maps`, f4(calibration.before.ece), f4(calibration.after.ece), f4(cli.raw.ece), f4(cli.calibrated.ece), f4(rawQuality.nll), f4(mine.nll), f4(rawQuality.brier), f4(mine.brier)]);
  }
  say(`test: ${test.sentences.length} sentences, ${testHeld.samples.length} predicted entities (${testHeld.samples.filter((s) => s.correct).length} exactly right)`);
  say(table(["method", "fitted", "dev ECE before", "dev ECE after", "test ECE before", "test ECE after", "test NLL before", "after", "test Brier before", "after"], eceRows));

  // 2b. In distribution: fit on alternate dev documents, measure on the others.
  const halves = alternateHalves(readFileSync(devFile, "utf8"));
  const halfData = new Map();
  for (const parity of ["even", "odd"]) {
    const file = join(tmp, `dev-${parity}.conll`);
    writeFileSync(file, halves[parity]);
    const data = readLabelledData(file);
    t0 = performance.now();
    halfData.set(parity, { data, held: await heldOutSamples(raw, data) });
    log(`dev ${parity} documents tagged: ${data.sentences.length} sentences, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  say(`\n## ECE in distribution: dev's ${halves.documents} -DOCSTART- documents split alternately (even-numbered 0, 2, ... / odd-numbered 1, 3, ...); fitted on one half, measured on the other`);
  const halfRows = [];
  const halfPrecisionRows = [];
  const targets = TARGETS.reduce((t, x) => addPrecisionTarget(String(x), t), noTargets());
  for (const [fitOn, measureOn] of [["even", "odd"], ["odd", "even"]]) {
    const fitHalf = halfData.get(fitOn);
    const measureHalf = halfData.get(measureOn);
    const before = calibrationQuality(measureHalf.held.samples.map((s) => ({ score: s.rawScore, correct: s.correct })));
    for (const method of METHODS) {
      const cal = fitCalibration({ held: fitHalf.held, method, data: { path: `dev-${fitOn}`, sha256: "-", sentences: fitHalf.data.sentences.length } });
      const after = calibrationQuality(calibratedSamples(measureHalf.held.samples, cal));
      halfRows.push([`${fitOn} → ${measureOn}`, method, `${fitHalf.held.samples.length} / ${measureHalf.held.samples.length}`, method === "temperature" ? cal.temperature.toFixed(4) : "-", f4(before.ece), f4(after.ece), after.ece <= 0.02 ? "yes" : "no"]);
      // Thresholds chosen as calibrate chooses them, on the fitting half; realised on the other.
      const { thresholds } = chooseThresholds(calibratedOutcomesByType(fitHalf.held.samples, cal), targets);
      for (const target of TARGETS) {
        const thresholdOf = (type) => thresholds.get(type)?.find((r) => Math.abs(r.target - target) < 1e-9)?.threshold ?? null;
        const rows = acceptanceByType(calibratedSamples(measureHalf.held.samples, cal), thresholdOf);
        const cell = (r) => (r.accepted === 0 ? `${r.type} none` : `${r.type} ${r.correct}/${r.accepted} = ${f3(r.correct / r.accepted)}${r.correct / r.accepted >= target ? "" : " (below)"}, ${pct(r.accepted / r.entities)}`);
        halfPrecisionRows.push([`${fitOn} → ${measureOn}`, method, target, rows.map(cell).join("; ")]);
      }
    }
  }
  say(table(["fit → measure", "method", "entities fit / measure", "T", "ECE before", "ECE after", "≤ 0.02"], halfRows));
  say("\nThe same split, thresholds chosen on the fitting half (as calibrate chooses them), realised on the other: per type, right/accepted = precision, auto-accept rate");
  say(table(["fit → measure", "method", "target", "per type"], halfPrecisionRows));

  // 3. Realised precision of auto-accepted test entities.
  say("\n## Auto-accepted test entities: recorded thresholds (calibrated score ≥ threshold) vs fixed raw thresholds");
  const precisionRows = [];
  for (const method of METHODS) {
    const { calibration, testSamples } = calibrated.get(method);
    for (const target of TARGETS) {
      const thresholdOf = (type) => calibration.thresholds?.get(type)?.find((r) => Math.abs(r.target - target) < 1e-9)?.threshold ?? null;
      for (const row of acceptanceByType(testSamples, thresholdOf)) {
        const precision = row.accepted > 0 ? row.correct / row.accepted : NaN;
        const devRecord = calibration.thresholds?.get(row.type)?.find((r) => Math.abs(r.target - target) < 1e-9);
        const ci = row.accepted > 0 ? wilsonInterval(row.correct, row.accepted, 0.95) : undefined;
        precisionRows.push([method, target, row.type, f4(row.threshold), devRecord ? `${devRecord.accepted}/${devRecord.heldOut}` : "-", `${row.correct}/${row.accepted}`, f3(precision), ci ? `${f3(ci.low)}–${f3(ci.high)}` : "-", `${row.accepted}/${row.entities} = ${pct(row.accepted / row.entities)}`, row.accepted === 0 ? "(none)" : precision >= target ? "yes" : "NO"]);
      }
    }
  }
  for (const row of fixedBandsByType(testHeld.samples)) {
    const precision = row.accepted > 0 ? row.correct / row.accepted : NaN;
    const ci = row.accepted > 0 ? wilsonInterval(row.correct, row.accepted, 0.95) : undefined;
    precisionRows.push(["raw, fixed", "accept ≥ 0.95", row.type, "0.95", "-", `${row.correct}/${row.accepted}`, f3(precision), ci ? `${f3(ci.low)}–${f3(ci.high)}` : "-", `${row.accepted}/${row.entities} = ${pct(row.accepted / row.entities)}; review ${pct(row.review / row.entities)}; reject ${pct(row.reject / row.entities)}`, "-"]);
  }
  say(table(["scores", "target", "type", "threshold", "dev accepted/entities", "test correct/accepted", "test precision", "95% Wilson", "test auto-accepted", "≥ target"], precisionRows));
  for (const method of METHODS) for (const w of calibrated.get(method).warnings) say(`calibrate (${method}): ${w.trim()}`);

  // 3b. The pipeline's calibrated score (what serve routes on) against the sample's, on the first sentences of test.
  say(`\n## Pipeline score vs held-out sample score (first ${checkSentences} test sentences, words joined by spaces, aggregation "first")`);
  const checkRows = [];
  const sentences = test.sentences.slice(0, checkSentences);
  const texts = sentences.map((s) => joinedText(s.tokens));
  for (const method of METHODS) {
    const { dir, testSamples } = calibrated.get(method);
    const pipeline = await loadPipeline(dir, { threads: Number(threads) });
    try {
      const bySpan = new Map();
      for (const s of testSamples) {
        if (s.sentence >= checkSentences) continue;
        const span = wordSpan(texts[s.sentence].offsets, s.start, s.end);
        bySpan.set(`${s.sentence}\u0000${spanKey(span.start, span.end, s.type)}`, s);
      }
      const results = await pipeline.run(texts.map((t) => t.text), { aggregation: "first" });
      let entities = 0;
      let matched = 0;
      let maxScore = 0;
      let maxRaw = 0;
      results.forEach((list, i) => {
        for (const e of list) {
          entities++;
          const s = bySpan.get(`${i}\u0000${spanKey(e.start, e.end, e.type)}`);
          if (!s) continue;
          matched++;
          maxScore = Math.max(maxScore, Math.abs(e.score - s.score));
          maxRaw = Math.max(maxRaw, Math.abs(e.raw_score - s.rawScore));
        }
      });
      checkRows.push([method, entities, bySpan.size, matched, maxScore.toExponential(2), maxRaw.toExponential(2)]);
    } finally {
      await pipeline.close();
    }
  }
  say(table(["method", "pipeline entities", "sample entities", "same span and type", "max |score diff|", "max |raw_score diff|"], checkRows));

  // 4. The audit estimate against the truth, through the service.
  const { dir: auditDir, calibration: auditCalibration } = calibrated.get(auditMethod);
  const auditPipeline = await loadPipeline(auditDir, { threads: Number(threads) });
  let stream;
  try {
    stream = await auditStream({ pipeline: auditPipeline, calibration: auditCalibration, modelDir: auditDir, sentences: test.sentences, target: 0.9, auditRate, auditSeed, dir: tmp, reviewAll: true });
  } finally {
    await auditPipeline.close();
  }
  log(`audit stream: job of ${stream.documents} documents done in ${stream.jobSeconds.toFixed(0)} s`);
  say(`\n## Audit estimate vs truth: serve with ${auditMethod} calibration, --target-precision 0.9 (${stream.targets.map((t) => `${t.type} ${t.accept === null ? "none" : f4(t.accept)}`).join(", ")}), review 0.80, audit rate ${auditRate}, seed ${auditSeed}`);
  say(`${stream.documents} test sentences as one batch job: ${stream.acceptedDocuments} documents auto-accepted, ${stream.reviewDocuments} routed to review, ${stream.auditedDocuments} audited; every audit${stream.reviewAll ? " and every review" : ""} document answered from gold (a correction with the gold spans)`);
  const auditRows = [];
  const types = [...new Set([...stream.truth.keys(), ...stream.monitor.perType.map((p) => p.type)])].sort();
  for (const type of types) {
    const est = stream.monitor.perType.find((p) => p.type === type);
    const truth = stream.truth.get(type);
    const mine = stream.audit.get(type);
    const truthPrecision = truth ? truth.correct / truth.entities : NaN;
    const biased = stream.monitor.reviewBased.find((p) => p.type === type);
    if (est && mine && (est.reviewed !== mine.entities || est.kept !== mine.correct)) say(`WARNING: ${type}: the monitor counts ${est.kept}/${est.reviewed}, recounted from the stored results ${mine.correct}/${mine.entities}`);
    auditRows.push([
      type,
      `${stream.auditedDocsByType.get(type) ?? 0} / ${est?.reviewed ?? 0}`,
      est ? `${est.kept}/${est.reviewed} = ${f3(est.precision)}` : "-",
      est ? `${f3(est.low)}–${f3(est.high)}` : "-",
      truth ? `${truth.correct}/${truth.entities} = ${f3(truthPrecision)}` : "-",
      est && truth ? (est.low <= truthPrecision && truthPrecision <= est.high ? "yes" : "NO") : "-",
      biased ? `${biased.kept}/${biased.reviewed} = ${f3(biased.precision)}` : "-",
    ]);
  }
  say(table(["type", "audited docs / entities", "audit estimate", "95% Wilson", "truth (all auto-accepted)", "covered", "review-based (biased)"], auditRows));
  say(`\nThe audit draw repeated offline ${replicates} times on the same stored results (auditDraw with other job ids, counted as the monitor counts): how often the 95% Wilson interval covers the truth`);
  const coverage = replicateCoverage({ ...stream, auditRate, auditSeed, replicates });
  say(table(["type", "draws with audited entities", "mean audited entities", "covered"], coverage.map((c) => [c.type, `${c.withEntities}/${c.replicates}`, c.withEntities ? (c.entities / c.withEntities).toFixed(1) : "-", c.withEntities ? `${c.covered}/${c.withEntities} = ${pct(c.covered / c.withEntities)}` : "-"])));
  say(`\ntotal ${seconds()} s`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
