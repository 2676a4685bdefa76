// `nerkit retrain` end to end through the library function it calls (retrainNow), with reviews
// stored in a SQLite job database and the in-memory registry (the real one is opened by
// openModelRegistry, wired by the lead): the options become the trainer's and the gate's settings,
// the run is recorded in the retrains table like the service's, one runs at a time; and the command
// itself refuses bad options and an unopenable registry with one line and exit 2.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openRepository } from "../src/serve/storage/open.js";
import { retrainStore } from "../src/serve/storage/open-retrains.js";
import { retrainNow } from "../src/serve/retrain/retrain-now.js";
import { retrainSettings } from "../src/cli/retrain-options.js";
import { openModelRegistry } from "../src/serve/models/registry-service.js";
import { recordFirstVersion } from "../src/serve/models/first-version.js";
import { readModelCalibration } from "../src/model/checkpoint/calibration.js";
import { existsSync, rmSync } from "node:fs";
import { tinyModelDir } from "./model-cases.js";
import { nerkit, tempDir } from "./helpers.js";
import { demoGold, originalTraining, storeReviewedDocuments, tinyRegistry } from "./retrain-cases.js";

test("retrainNow: the command's run, recorded in the retrains table, with the command's options", async () => {
  const dir = tempDir();
  const repository = await openRepository(join(dir, "jobs.db"));
  try {
    await storeReviewedDocuments(repository, 12);
    const original = originalTraining(dir);
    const registry = tinyRegistry(join(dir, "models"), original);
    const settings = retrainSettings({ holdout: 0.3, gold: demoGold, promoteMargin: 1.5, maxTypeDrop: 3, maxSteps: 2, batchSize: 4, lr: 1e-3 }, 1);
    assert.deepEqual(settings.trainArgs, ["--lr", "0.001", "--batch-size", "4", "--max-steps", "2"]);
    const phases: string[] = [];
    const lines: string[] = [];
    const record = await retrainNow({ repository, registry, settings, onLog: (l) => lines.push(l), onProgress: (_f, p) => phases.push(p) });
    assert.equal(record.status, "done", record.error);
    assert.equal(record.id, "r1");
    assert.equal(record.candidate, "v2");
    assert.deepEqual([record.gate?.promoteMargin, record.gate?.maxTypeDrop], [1.5, 3]);
    assert.equal(record.gate?.gold.path, demoGold);
    assert.ok(lines.some((l) => /^step 2\/2\b/.test(l)), lines.join("\n"));
    assert.ok(phases.includes("training") && phases.includes("evaluating"));
    const store = await retrainStore(repository);
    assert.deepEqual((await store.list(0, 10)).map((r) => [r.id, r.status]), [["r1", "done"]]);
    // A retrain running (here: a row a server holds) refuses the command's.
    assert.equal((await store.start(0))?.id, "r2");
    await assert.rejects(retrainNow({ repository, registry, settings }), /retrain r2 is running/);
    assert.equal((await store.get("r2"))?.status, "running", "the command does not touch a running retrain");
  } finally {
    await repository.close();
  }
});

test("nerkit retrain: bad options and a registry that cannot be opened are one line, exit 2", () => {
  const dir = tempDir();
  for (const [args, message] of [
    [["--holdout", "1"], /--holdout expects a share in \[0, 1\), got '1'/],
    [["--promote-margin", "-1"], /--promote-margin expects points of F1 between 0 and 100/],
    [[], /the registry has no serving version yet \(`nerkit serve --model DIR` records the first one\)/],
  ] as const) {
    const run = nerkit(["retrain", "--db", join(dir, "jobs.db"), "--models", join(dir, "models"), ...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
  }
});

test("nerkit retrain on the real registry: v1 recorded as serve records it, reviews in SQLite, the command makes v2 from v1 with its gate record, and the registry keeps it after the command exits", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, "jobs.db");
  const models = join(dir, "models");
  const repository = await openRepository(db);
  try {
    const v1 = await recordFirstVersion(openModelRegistry(repository, models), tinyModelDir("bert"), "bert-tiny");
    assert.equal(v1.status, "serving");
    await storeReviewedDocuments(repository, 12);
  } finally {
    await repository.close();
  }
  const original = originalTraining(dir);
  const run = nerkit(["retrain", "--db", db, "--models", models, "--train", original, "--gold", demoGold, "--max-steps", "2", "--batch-size", "4", "--lr", "1e-3", "--threads", "1"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^retrain r1: v2 (promoted|kept as a candidate): /);
  const reopened = await openRepository(db);
  try {
    const registry = openModelRegistry(reopened, models);
    const v2 = await registry.get("v2");
    assert.ok(v2, "v2 is recorded");
    assert.equal(v2.parent, "v1");
    assert.ok(existsSync(join(v2.folder, "config.json")) && existsSync(join(v2.folder, "model.safetensors")));
    assert.equal(v2.trainingData?.files[0], original);
    // The 12 corrections less the held-out share (a hash of each document's id decides): at least one trained on.
    const reviewed = v2.trainingData?.reviewedDocuments ?? 0;
    assert.ok(reviewed >= 1 && reviewed <= 12, `reviewed documents trained on: ${reviewed}`);
    assert.equal(v2.gate?.gold.path, demoGold);
    assert.equal(v2.gate?.serving.version, "v1");
    const promoted = v2.gate?.decision === "promote";
    assert.equal((await registry.serving()).id, promoted ? "v2" : "v1");
    assert.equal(v2.status, promoted ? "serving" : "candidate");
    // Calibrated on the gold set when it could be; a calibration it carries belongs to its own weights.
    if (v2.calibration) assert.equal(readModelCalibration(v2.folder)?.method, v2.calibration.method);
  } finally {
    await reopened.close();
  }
});

