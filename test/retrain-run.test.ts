// A real retrain (issue 12 §3) through runRetrain with an in-memory registry: the bert-tiny fixture
// fine-tuned for 2 steps in a child `nerkit train` on its original sentences plus reviewed
// documents, judged against the serving version on a gold file with the scores `nerkit evaluate`
// gives, recorded as a candidate with its gate record and the data it learnt from; and a trainer
// killed with SIGKILL leaves the serving version serving, no candidate, no half-made folder.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { NerkitError } from "../src/errors.js";
import { loadPipeline } from "../src/infer/pipeline.js";
import { gateScores } from "../src/metrics/gate.js";
import { evaluateModelOnFile, readLabelledData } from "../src/train/evaluate-file.js";
import { DEFAULT_RETRAIN, runRetrain } from "../src/serve/retrain/run.js";
import { isHeldOut } from "../src/serve/review/holdout.js";
import { tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";
import { demoGold, originalTraining, reviewedDocuments, shortTraining, tinyRegistry } from "./retrain-cases.js";

async function scoresOn(folder: string, gold: string) {
  const pipeline = await loadPipeline(folder, { threads: 1, calibration: false });
  try {
    return gateScores((await evaluateModelOnFile(pipeline, gold)).evaluation.report);
  } finally {
    await pipeline.close();
  }
}

test("a short retrain makes a candidate with a gate record, its calibration and the data it learnt from", async () => {
  const dir = tempDir();
  const original = originalTraining(dir);
  const registry = tinyRegistry(join(dir, "models"), original);
  const reviewed = reviewedDocuments(20);
  const held = reviewed.filter((r) => isHeldOut(r.jobId, r.seq, 0.3)).length;
  assert.ok(held > 0 && held < 20, `${held} of 20 held out`);
  const phases: string[] = [];
  const lines: string[] = [];
  const outcome = await runRetrain("r1", registry, reviewed, { ...DEFAULT_RETRAIN, holdout: 0.3, gold: demoGold, trainArgs: shortTraining, threads: 1 }, {
    progress: (_fraction, phase) => phases.push(phase),
    log: (line) => lines.push(line),
  });
  const candidate = outcome.candidate;
  assert.equal(candidate.id, "v2");
  assert.equal(candidate.parent, "v1");
  assert.equal(candidate.madeBy, `retrain r1 (${20 - held} reviewed documents)`);
  assert.equal(candidate.status, outcome.promoted ? "serving" : "candidate");
  assert.equal(outcome.promoted, outcome.gate.decision === "promote");
  assert.deepEqual(registry.promotions, outcome.promoted ? ["v2"] : []);
  // Trained for 2 steps from the serving folder, into the reserved folder.
  const log = readFileSync(join(candidate.folder, "training_log.jsonl"), "utf8").trim().split("\n");
  assert.equal(log.length, 2);
  assert.ok(lines.some((l) => /^step 2\/2\b/.test(l)), lines.join("\n"));
  for (const phase of ["preparing", "training", "evaluating", "calibrating", "recording"]) assert.ok(phases.includes(phase), phase);
  // The head was kept: same labels in the same order as the serving model's.
  const config = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { id2label: Record<string, string> };
  assert.deepEqual(config(candidate.folder).id2label, config(tinyModelDir("bert")).id2label);
  // The gate compared the scores `nerkit evaluate --model` gives on the gold file.
  const gate = outcome.gate;
  assert.deepEqual(gate.candidate, await scoresOn(candidate.folder, demoGold));
  assert.deepEqual(gate.serving, { ...(await scoresOn(tinyModelDir("bert"), demoGold)), version: "v1" });
  assert.equal(gate.gold.source, "gold-file");
  assert.equal(gate.gold.sha256, createHash("sha256").update(readFileSync(demoGold)).digest("hex"));
  assert.equal(gate.gold.documents, readLabelledData(demoGold).sentences.length);
  assert.deepEqual([gate.promoteMargin, gate.maxTypeDrop], [0.5, 2]);
  assert.match(gate.reason, /micro F1/);
  assert.deepEqual(candidate.gate, gate);
  // Calibrated on the held-out documents, or kept from serving with the reason.
  if (candidate.calibration) {
    assert.ok(existsSync(join(candidate.folder, "calibration.json")));
    assert.equal(candidate.calibration.method, "temperature");
  } else {
    assert.match(gate.reason, /not calibrated/);
    assert.equal(gate.decision, "keep-candidate");
  }
  // The drift reference of the held-out texts it was calibrated on.
  const profile = JSON.parse(readFileSync(join(candidate.folder, "reference-profile.json"), "utf8")) as { madeBy: string; documents: number };
  assert.deepEqual([profile.madeBy, profile.documents], ["nerkit retrain", held]);
  // The data it learnt from: the original file, then the reviewed documents kept in its folder.
  const data = candidate.trainingData!;
  assert.deepEqual(data.files, [original, join(candidate.folder, "retrain", "reviewed.conll")]);
  assert.equal(data.reviewedDocuments, 20 - held);
  assert.equal(data.sha256, createHash("sha256").update(readFileSync(original)).update(readFileSync(data.files[1])).digest("hex"));
  const heldText = readFileSync(join(candidate.folder, "retrain", "holdout.conll"), "utf8");
  assert.equal(heldText.trim().split(/\n\s*\n/).length, held);
  // No work folder left beside the versions.
  assert.deepEqual(readdirSync(join(dir, "models")), ["v2"]);
});

test("SIGKILL of the trainer: the retrain fails, serving is untouched, no candidate, no half-made folder", async () => {
  const dir = tempDir();
  const registry = tinyRegistry(join(dir, "models"), originalTraining(dir));
  const before = await registry.list();
  let killed = false;
  const failure = await runRetrain("r2", registry, reviewedDocuments(20), { ...DEFAULT_RETRAIN, holdout: 0.3, gold: demoGold, trainArgs: ["--max-steps", "100000", "--batch-size", "1", "--threads", "1"] }, {
    progress: (_f, phase) => phase,
    log: () => {},
    trainerStarted: (pid) => {
      // Killed once it trains (its first progress line), not while it starts.
      const poll = setInterval(() => {
        if (existsSync(join(dir, "models", ".v2.retrain", "trainer.log")) && /step 1\//.test(readFileSync(join(dir, "models", ".v2.retrain", "trainer.log"), "utf8"))) {
          clearInterval(poll);
          process.kill(pid, "SIGKILL");
          killed = true;
        }
      }, 20);
    },
  }).then(
    () => assert.fail("the retrain succeeded"),
    (error: unknown) => error,
  );
  assert.ok(killed, "the trainer was killed");
  assert.ok(failure instanceof NerkitError && failure.code === "E_RETRAIN", String(failure));
  assert.match((failure as Error).message, /killed \(SIGKILL\)/);
  assert.deepEqual(await registry.list(), before);
  assert.equal((await registry.serving()).id, "v1");
  assert.ok(!existsSync(join(dir, "models", "v2")), "the half-made version folder is removed");
  assert.match(readFileSync(join(dir, "models", ".v2.retrain", "trainer.log"), "utf8"), /step 1\//);
});

test("a retrain refuses, before training, what it cannot do", async () => {
  const dir = tempDir();
  const registry = new (await import("./memory-registry.js")).MemoryRegistry(join(dir, "models"), { folder: tinyModelDir("bert") });
  await assert.rejects(runRetrain("r3", registry, reviewedDocuments(5), { ...DEFAULT_RETRAIN, gold: demoGold }), /records no training data: give the original training data \(--train FILE\)/);
  const original = originalTraining(dir);
  await assert.rejects(runRetrain("r3", registry, [], { ...DEFAULT_RETRAIN, train: [original], gold: demoGold }), /no reviewed document to train on/);
  await assert.rejects(runRetrain("r3", registry, reviewedDocuments(5), { ...DEFAULT_RETRAIN, holdout: 0, train: [original] }), /nothing to judge the candidate on/);
  assert.equal(registry.versions.length, 1);
});
