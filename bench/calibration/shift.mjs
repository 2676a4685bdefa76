// Why calibration fitted on CoNLL-2003 dev misses on test (issue 11 §5): the two splits differ in
// what the model has seen. Each predicted entity is put in a stratum by its words against the
// training file's gold entities: "seen" (the same words and type are a gold entity of train),
// "other type" (the same words, only with another type) or "unseen". The script reports, per split,
// each stratum's share and accuracy (exactly right), and the accuracy of raw scores ≥ 0.95 within
// each type and stratum: a stratum whose accuracy differs between dev and test at the same raw score
// is a shift no map from score to probability fitted on dev can undo. Then test ECE (15 bins) for:
// raw scores; temperature and isotonic per type fitted on dev (what `nerkit calibrate` does); isotonic
// per stratum fitted on dev (what knowing the stratum would buy); the best single temperature fitted
// on test itself (the floor of the temperature family on this model); and the ECE that perfectly
// calibrated scores would show by chance at this sample size (outcomes drawn from the calibrated
// scores, seeded, mean of 200 draws).
// Usage: npm run build && node bench/calibration/shift.mjs [--model DIR] [--data DIR] [--threads 2]
// Left out: using strata in `nerkit calibrate` (the model folder would have to carry the training
// entities' words); see bench/RESULTS.md for the decision.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadPipeline } from "../../dist/src/infer/pipeline.js";
import { heldOutSamples } from "../../dist/src/train/calibration-fit.js";
import { readLabelledData } from "../../dist/src/train/evaluate-file.js";
import { conllevalChunks } from "../../dist/src/data/chunks.js";
import { fitIsotonic } from "../../dist/src/metrics/calibration/isotonic.js";
import { applyIsotonic } from "../../dist/src/metrics/calibration-file.js";
import { fitTemperature, temperedScore } from "../../dist/src/metrics/calibration/temperature.js";
import { expectedCalibrationError, reliabilityTable } from "../../dist/src/metrics/calibration/quality.js";
import { SeededRandom } from "../../dist/src/train/random.js";

const root = join(import.meta.dirname, "..", "..");
const flag = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const model = flag("--model", join(root, "bench", "out", "conll", "model"));
const dataDir = flag("--data", join(shared, "data", "conll2003"));
const threads = Number(flag("--threads", "2"));
const TYPES = ["PER", "ORG", "LOC", "MISC"];
const STRATA = ["seen", "other type", "unseen"];

const ece = (outcomes) => expectedCalibrationError(reliabilityTable(outcomes));
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "-");
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const mean = (xs) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const table = (header, rows) => [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

/** Gold entities of train as "type\0words" and as "words". */
const train = readLabelledData(join(dataDir, "train.conll"));
const seenTyped = new Set();
const seenWords = new Set();
for (const s of train.sentences) {
  for (const c of conllevalChunks(s.tags)) {
    const words = s.tokens.slice(c.start, c.end).join(" ");
    seenTyped.add(`${c.type}\u0000${words}`);
    seenWords.add(words);
  }
}
const stratum = (type, words) => (seenTyped.has(`${type}\u0000${words}`) ? "seen" : seenWords.has(words) ? "other type" : "unseen");

const pipeline = await loadPipeline(model, { threads });
const splits = new Map();
for (const split of ["dev", "test"]) {
  const data = readLabelledData(join(dataDir, `${split}.conll`));
  const { samples } = await heldOutSamples(pipeline, data, { batchSize: 32 });
  for (const s of samples) s.stratum = stratum(s.type, data.sentences[s.sentence].tokens.slice(s.start, s.end).join(" "));
  splits.set(split, samples);
}
await pipeline.close();
const dev = splits.get("dev");
const test = splits.get("test");

const out = [];
out.push(`model: ${model}\n`);
out.push(
  table(
    ["stratum", "dev share", "dev accuracy", "test share", "test accuracy"],
    STRATA.map((k) => {
      const d = dev.filter((s) => s.stratum === k);
      const t = test.filter((s) => s.stratum === k);
      return [k, pct(d.length / dev.length), f3(mean(d.map((s) => +s.correct))), pct(t.length / test.length), f3(mean(t.map((s) => +s.correct)))];
    }),
  ),
);
out.push("\nAccuracy of entities with raw score ≥ 0.95 (count), dev vs test:\n");
out.push(
  table(
    ["type", ...STRATA.flatMap((k) => [`${k} dev`, `${k} test`])],
    TYPES.map((type) => [
      type,
      ...STRATA.flatMap((k) =>
        [dev, test].map((samples) => {
          const high = samples.filter((s) => s.type === type && s.stratum === k && s.rawScore >= 0.95);
          return high.length === 0 ? "-" : `${f3(mean(high.map((s) => +s.correct)))} (${high.length})`;
        }),
      ),
    ]),
  ),
);

const outcomes = (samples, score) => samples.map((s) => ({ score: score(s), correct: s.correct }));
const perKey = (key) => {
  const groups = new Map();
  for (const s of dev) groups.set(key(s), [...(groups.get(key(s)) ?? []), { score: s.rawScore, correct: s.correct }]);
  const maps = new Map([...groups].map(([k, o]) => [k, fitIsotonic(o)]));
  const all = fitIsotonic(dev.map((s) => ({ score: s.rawScore, correct: s.correct })));
  return (s) => applyIsotonic(maps.get(key(s)) ?? all, s.rawScore);
};
const devT = fitTemperature(dev).temperature;
const testT = fitTemperature(test).temperature;
const isotonicPerType = perKey((s) => s.type);
const isotonicPerStratum = perKey((s) => s.stratum);
const generator = new SeededRandom(2026);
const random = () => generator.next();
const chanceEce = (score) => {
  const draws = [];
  for (let d = 0; d < 200; d++) draws.push(ece(test.map((s) => ({ score: score(s), correct: random() < score(s) }))));
  return mean(draws);
};
const rows = [
  ["raw scores", (s) => s.rawScore],
  [`temperature fitted on dev (T = ${devT.toFixed(3)})`, (s) => temperedScore(s.logits, devT)],
  ["isotonic per type fitted on dev", isotonicPerType],
  ["isotonic per stratum fitted on dev", isotonicPerStratum],
  [`temperature fitted on test itself (T = ${testT.toFixed(3)}; the family's floor)`, (s) => temperedScore(s.logits, testT)],
];
out.push(`\nTest ECE (15 equal-width bins, ${test.length} predicted entities); "by chance": the ECE perfectly calibrated scores of this distribution show at this sample size (mean of 200 seeded draws):\n`);
out.push(table(["scores", "test ECE", "by chance"], rows.map(([name, score]) => [name, f3(ece(outcomes(test, score))), f3(chanceEce(score))])));
console.log(out.join("\n"));
