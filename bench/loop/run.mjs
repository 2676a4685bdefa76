// The loop as a simulation (issue 12 §4), through a real `nerkit serve` and its endpoints, on
// CoNLL-2003: a first version (bert-mini from random weights on the first --first training
// sentences, with a WordPiece tokenizer learnt from the whole training text), made once and served
// by every order; then, for each review order, a fresh server (its own --db and --models in a temp
// folder, --audit-rate 0 so that every review is the order's own) and --rounds rounds of: the next
// slice of the remaining training sentences posted as a batch job; a simulated reviewer correcting
// the first --per-round documents of GET /v1/review to their gold entities; POST /v1/retrain, the
// gate judging on CoNLL dev (or its first --gold-size sentences); the serving version then scored
// on CoNLL test (or its first --test-size sentences) with `nerkit evaluate`. Prints a table, an
// ASCII chart of test F1 against reviews spent and the three goals; a full run (not --quick)
// appends them, with the command, to bench/RESULTS.md.
//
// Usage (after `npm run build`): NERKIT_SHARED=/path/to/shared node bench/loop/run.mjs
//   [--rounds 6] [--per-round 200] [--orders uncertainty,random,fifo] [--first 1000]
//   [--epochs 10] [--first-lr 1e-3] [--first-batch 32] [--retrain-epochs 1] [--retrain-lr 5e-4] [--retrain-max-steps N]
//   [--gold-size N] [--test-size N] [--slice N] [--threads 2] [--accept 0.95] [--review 0.8] [--review-uncertain U]
//   [--json FILE] [--quick]
// --quick: a first version on 300 sentences (6 epochs, batch 16, lr 2e-3: 200 sentences for 5
//   epochs predicted no entity at all, so nothing reached the review queue), 2 rounds of 20 reviews, slices of 60
//   sentences, retrains of 1 epoch and at most 10 steps, 100 dev and 200 test sentences. It shows that
//   every step works end to end; its F1 figures mean nothing.
// The first version is kept in bench/out/loop/ under a name made of its settings and reused by a
// later run with the same settings. Routing keeps serve's defaults (--accept 0.95, --review 0.8): a
// document enters the review queue when one of its entities scores in the review band, so the orders
// choose from the same queue a user's server would build.
// Time (2 cores): the first version 3.5 min; a round 40–70 s (the job of 2,173 documents 4–6 s, the
// retrain 30–60 s: one epoch over 1,200–2,200 sentences, the gate on all of dev, calibration); a full
// run of 18 rounds 30.6 min with five helpers' builds sharing the machine for part of it (bench/RESULTS.md).
// Left out: workers and queues (retrains run in the server's child process), PostgreSQL.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConll } from "../../dist/src/index.js";
import { annotateSlice, retrain, reviewFirst, servingVersion, startServe } from "./service.mjs";
import { chart, goalLines, goals, table } from "./report.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const flag = (name, full, fast) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : quick ? fast : full);
const settings = {
  rounds: Number(flag("rounds", 6, 2)),
  perRound: Number(flag("per-round", 200, 20)),
  orders: String(flag("orders", "uncertainty,random,fifo", "uncertainty,random,fifo")).split(","),
  first: Number(flag("first", 1000, 300)),
  epochs: Number(flag("epochs", 10, 6)),
  firstLr: Number(flag("first-lr", 1e-3, 2e-3)),
  firstBatch: Number(flag("first-batch", 32, 16)),
  retrainEpochs: Number(flag("retrain-epochs", 1, 1)),
  retrainLr: Number(flag("retrain-lr", 5e-4, 5e-4)),
  retrainMaxSteps: flag("retrain-max-steps", undefined, 10),
  goldSize: flag("gold-size", undefined, 100),
  testSize: flag("test-size", undefined, 200),
  slice: flag("slice", undefined, 60),
  threads: Number(flag("threads", 2, 2)),
  accept: flag("accept", "0.95", "0.95"),
  review: flag("review", "0.8", "0.8"),
  reviewUncertain: flag("review-uncertain", undefined, undefined),
  json: flag("json", undefined, undefined),
};
const shared = process.env.NERKIT_SHARED ?? join(root, "..", "shared");
const data = join(shared, "data", "conll2003");
if (!existsSync(join(data, "train.conll"))) {
  console.error(`no CoNLL-2003 at ${data}: set NERKIT_SHARED to the shared folder`);
  process.exit(2);
}
const started = performance.now();
const seconds = (from = started) => (performance.now() - from) / 1000;
const log = (line) => process.stderr.write(`[${seconds().toFixed(0).padStart(5)} s] ${line}\n`);

/** Runs the CLI without blocking the event loop: a blocked loop misses the server closing an idle
 * kept-alive connection, and the next fetch fails on it ("other side closed"). */
function nerkit(args, what) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(root, "bin", "nerkit.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-3000)));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolveRun(stdout) : reject(new Error(`${what}: nerkit ${args.join(" ")} exited ${code}:\n${stderr}`))));
  });
}

const readSentences = (file) => parseConll(readFileSync(file, "utf8"), { file }).sentences;
const conll = (sentences) => sentences.map((s) => s.tokens.map((t, i) => `${t} ${s.tags[i]}`).join("\n") + "\n").join("\n");

// ---- the data ----
const train = readSentences(join(data, "train.conll"));
const firstSentences = train.slice(0, settings.first);
const remaining = train.slice(settings.first);
const slice = Number(settings.slice ?? Math.floor(remaining.length / settings.rounds));
if (slice * settings.rounds > remaining.length) throw new Error(`${settings.rounds} slices of ${slice} need ${slice * settings.rounds} sentences; ${remaining.length} remain after --first ${settings.first}`);
const work = mkdtempSync(join(tmpdir(), "nerkit-loop-"));
const goldFile = settings.goldSize ? join(work, "gold.conll") : join(data, "dev.conll");
if (settings.goldSize) writeFileSync(goldFile, conll(readSentences(join(data, "dev.conll")).slice(0, Number(settings.goldSize))));
const testFile = settings.testSize ? join(work, "test.conll") : join(data, "test.conll");
if (settings.testSize) writeFileSync(testFile, conll(readSentences(join(data, "test.conll")).slice(0, Number(settings.testSize))));

// ---- the first version, made once ----
const cache = join(root, "bench", "out", "loop", `first-${settings.first}-e${settings.epochs}-lr${settings.firstLr}-b${settings.firstBatch}`);
const firstModel = join(cache, "model");
const firstTrain = join(cache, "first.conll");
let firstSeconds = 0;
if (!existsSync(join(firstModel, "config.json"))) {
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  writeFileSync(firstTrain, conll(firstSentences));
  const t = performance.now();
  log(`tokenizer from the whole training text → ${cache}/tokenizer`);
  await nerkit(["tokenizer", "train", "--data", join(data, "train.conll"), "--vocab-size", "8000", "--out", join(cache, "tokenizer")], "tokenizer");
  log(`first version: bert-mini from random weights on ${firstSentences.length} sentences, ${settings.epochs} epoch(s)`);
  await nerkit(["train", "--init", "bert-mini", "--tokenizer", join(cache, "tokenizer"), "--train", firstTrain, "--out", firstModel, "--epochs", String(settings.epochs), "--batch-size", String(settings.firstBatch), "--lr", String(settings.firstLr), "--warmup-ratio", "0.1", "--threads", String(settings.threads)], "first version");
  firstSeconds = seconds(t);
  log(`first version made in ${firstSeconds.toFixed(0)} s`);
} else log(`first version reused from ${firstModel}`);

const testScores = new Map(); // model folder → test micro F1 (a version's folder never changes)
async function testF1(folder) {
  if (!testScores.has(folder)) {
    const report = JSON.parse(await nerkit(["evaluate", "--model", folder, "--data", testFile, "--format", "json", "--threads", String(settings.threads)], "evaluate"));
    testScores.set(folder, report.overall.f1);
  }
  return testScores.get(folder);
}
// Every server's v1 is a copy of the first version: scored once for every order.
const folderOf = (version) => (version.id === "v1" ? firstModel : version.folder);

// ---- one order ----
async function runOrder(order) {
  const dir = join(work, order);
  mkdirSync(dir);
  const retrainArgs = ["--train", firstTrain, "--gold", goldFile, "--epochs", String(settings.retrainEpochs), "--lr", String(settings.retrainLr), "--batch-size", "32", ...(settings.retrainMaxSteps ? ["--max-steps", String(settings.retrainMaxSteps)] : [])];
  const args = ["--model", firstModel, "--db", join(dir, "jobs.db"), "--models", join(dir, "models"), "--review-order", order, "--review-seed", "1", "--audit-rate", "0", "--accept", settings.accept, "--review", settings.review, ...(settings.reviewUncertain ? ["--review-uncertain", settings.reviewUncertain] : []), "--threads", String(settings.threads), ...retrainArgs];
  const serve = await startServe(args);
  const rows = [];
  const jobs = new Map(); // job id → its slice
  let reviews = 0;
  try {
    const v1 = await servingVersion(serve.url);
    rows.push({ order, round: 0, reviews: 0, serving: v1.id, testF1: await testF1(folderOf(v1)) });
    log(`${order}: ${v1.id} serves, test F1 ${(100 * rows[0].testF1).toFixed(2)}`);
    for (let round = 1; round <= settings.rounds; round++) {
      const roundStart = performance.now();
      const sentences = remaining.slice((round - 1) * slice, round * slice);
      const t = performance.now();
      jobs.set(await annotateSlice(serve.url, sentences), sentences);
      const jobSeconds = seconds(t);
      const reviewed = await reviewFirst(serve.url, settings.perRound, (jobId, seq) => jobs.get(jobId)?.[seq]);
      reviews += reviewed.answered;
      log(`${order} round ${round}: ${sentences.length} documents annotated in ${jobSeconds.toFixed(1)} s; ${reviewed.answered} reviewed`);
      const row = { order, round, reviews, jobSeconds, answered: reviewed.answered };
      try {
        const { record, seconds: retrainSeconds } = await retrain(serve.url, (line) => log(`${order} round ${round}: ${line}`));
        row.retrainSeconds = retrainSeconds;
        if (record.status === "failed") row.error = `retrain failed: ${record.error}`;
        row.decision = record.gate?.decision;
        row.reason = record.gate?.reason;
        row.gate = record.gate;
        row.candidate = record.candidate?.id;
      } catch (error) {
        row.error = error.message.split("\n")[0];
      }
      const serving = await servingVersion(serve.url);
      row.serving = serving.id;
      row.testF1 = await testF1(folderOf(serving));
      row.roundSeconds = seconds(roundStart);
      rows.push(row);
      log(`${order} round ${round}: ${row.error ?? `${row.decision} (${row.reason})`}; ${serving.id} serves, test F1 ${(100 * row.testF1).toFixed(2)}; round took ${row.roundSeconds.toFixed(0)} s (retrain ${row.retrainSeconds?.toFixed(0)} s)`);
    }
  } finally {
    await serve.stop();
  }
  return rows;
}

const rows = [];
try {
  for (const order of settings.orders) rows.push(...(await runOrder(order)));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const command = `node bench/loop/run.mjs ${argv.join(" ")}`.trim();
const rounds = rows.filter((r) => r.round > 0);
const summary = [
  `Settings: ${JSON.stringify({ ...settings, slice, gold: settings.goldSize ? `first ${settings.goldSize} dev sentences` : "CoNLL dev", test: settings.testSize ? `first ${settings.testSize} test sentences` : "CoNLL test" })}`,
  `Wall time ${(seconds() / 60).toFixed(1)} min (first version ${firstSeconds > 0 ? `${firstSeconds.toFixed(0)} s` : "reused"}); a round: median ${rounds.length ? rounds.map((r) => r.roundSeconds).sort((a, b) => a - b)[Math.floor(rounds.length / 2)].toFixed(0) : "—"} s.`,
  "",
  table(rows),
  "",
  "```",
  chart(rows),
  "```",
  "",
  goalLines(goals(rows)),
].join("\n");
console.log(summary);
if (settings.json) writeFileSync(settings.json, JSON.stringify({ settings, rows }, null, 2));
if (!quick) {
  appendFileSync(join(root, "bench", "RESULTS.md"), `\n## The loop as a simulation (issue 12 §4), ${new Date().toISOString().slice(0, 10)}\n\n\`${command}\`\n\n${summary}\n`);
  log("appended to bench/RESULTS.md");
}
