// serve --target-precision: accept thresholds read from a calibration.json written by hand (through
// calibrationJson), routing with them (decision, threshold and target on each entity), and the
// start-up errors that name what to run.

import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CALIBRATION_FILE, CalibrationFile, PrecisionThreshold, calibrationJson } from "../src/metrics/calibration-file.js";
import { addPrecisionTarget, noTargets } from "../src/metrics/precision-thresholds.js";
import { route } from "../src/postprocess/routing.js";
import { buildApp } from "../src/serve/app.js";
import { targetThresholds } from "../src/serve/precision-routing.js";
import { readModelCalibration as readCalibration } from "../src/model/checkpoint/calibration.js";
import { FakePipeline } from "./fake-pipeline.js";
import { fixturesDir, nerkit, nerkitError, tempDir } from "./helpers.js";
import { spawnNerkit } from "./processes.js";

function record(target: number, threshold: number | null, confidence = 0.95): PrecisionThreshold {
  return { target, confidence, threshold, lowerBound: threshold === null ? null : target + 0.001, accepted: threshold === null ? 0 : 100, correct: threshold === null ? 0 : 99, heldOut: 200, autoAcceptRate: threshold === null ? 0 : 0.5 };
}

function calibration(thresholds?: Map<string, PrecisionThreshold[]>): CalibrationFile {
  const quality = { ece: 0.05, nll: 0.3, brier: 0.1 };
  return {
    version: 1,
    method: "temperature",
    temperature: 1.3,
    data: { path: "dev.conll", sha256: "0".repeat(64), sentences: 10, entities: 400 },
    counts: new Map([["PER", { predicted: 200, correct: 190, gold: 198 }]]),
    before: quality,
    after: quality,
    thresholds,
    created: "2026-12-03T00:00:00.000Z",
  };
}

/** A model folder holding only calibration.json (serve's reading of it needs nothing else). */
function modelDir(file: CalibrationFile | undefined): string {
  const dir = tempDir("nerkit-target-");
  if (file) writeFileSync(join(dir, CALIBRATION_FILE), JSON.stringify(calibrationJson(file)));
  return dir;
}

const targets = (...values: string[]) => values.reduce((t, v) => addPrecisionTarget(v, t), noTargets());

// The fake pipeline finds PER at 0.99 and ORG at 0.85 (test/fake-pipeline.ts).
const recorded = new Map([
  ["PER", [record(0.9, 0.97), record(0.95, 0.995)]],
  ["ORG", [record(0.95, null), record(0.9, 0.84)]],
]);

test("routing on a calibration's thresholds: each entity says decision, threshold and target", async () => {
  const dir = modelDir(calibration(recorded));
  const read = readCalibration(dir);
  assert.ok(read);
  const at95 = targetThresholds(read, targets("0.95"), 0.95, dir);
  assert.deepEqual(at95, [
    { type: "PER", accept: 0.995, target: 0.95, confidence: 0.95 },
    { type: "ORG", accept: null, target: 0.95, confidence: 0.95 },
    { type: "*", accept: null, target: 0.95, confidence: 0.95 },
  ]);
  const app = await buildApp({ pipeline: new FakePipeline(), config: { targets: at95 } });
  try {
    const response = await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Ann met IBM" } });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as { entities: { type: string; score: number; decision: string; threshold: number | null; target: number }[]; decision: string };
    // PER 0.99 is below 0.995: review (>= --review 0.8). ORG has no auto-accept: 0.85 >= 0.8 goes to review.
    assert.deepEqual(body.entities.map((e) => [e.type, e.decision, e.threshold, e.target]), [["PER", "review", 0.995, 0.95], ["ORG", "review", null, 0.95]]);
    assert.equal(body.decision, "review");
  } finally {
    await app.close();
  }
  // At 0.9: PER accepts at 0.97 (0.99 accepted), ORG at 0.84 (0.85 accepted; review clamped from 0.8 to 0.84 changes nothing here).
  const at90 = targetThresholds(read, targets("0.9"), 0.95, dir);
  const routed = route([{ type: "PER", text: "x", start: 0, end: 3, score: 0.99 }, { type: "ORG", text: "x", start: 8, end: 11, score: 0.85 }, { type: "LOC", text: "x", start: 4, end: 7, score: 0.999 }], { targets: at90 });
  assert.deepEqual(routed.entities.map((e) => [e.type, e.decision, e.threshold, e.target]), [["PER", "accept", 0.97, 0.9], ["ORG", "accept", 0.84, 0.9], ["LOC", "review", null, 0.9]]);
  // Workers get the routing as a BullMQ chunk's JSON: null thresholds and all survive the trip.
  const sent = JSON.parse(JSON.stringify({ targets: at90 })) as { targets: typeof at90 };
  assert.deepEqual(route(routed.entities.map(({ decision: _d, threshold: _t, target: _g, ...e }) => e), sent).entities, routed.entities);
});

test("per-type targets: other types keep the manual thresholds; the review threshold is clamped to the accept one", () => {
  const dir = modelDir(calibration(recorded));
  const only = targetThresholds(readCalibration(dir), targets("ORG=0.9"), 0.95, dir);
  assert.deepEqual(only, [{ type: "ORG", accept: 0.84, target: 0.9, confidence: 0.95 }]);
  const routed = route([{ type: "PER", text: "x", start: 0, end: 3, score: 0.9 }, { type: "ORG", text: "x", start: 4, end: 7, score: 0.83 }], { accept: 0.95, review: 0.85, targets: only });
  // PER: manual (0.9 < 0.95, >= 0.85: review, no threshold or target). ORG: review clamped from 0.85 to 0.84; 0.83 rejected.
  assert.deepEqual(routed.entities.map((e) => [e.decision, e.threshold, e.target]), [["review", undefined, undefined], ["reject", 0.84, 0.9]]);
  assert.equal(route([{ type: "ORG", text: "x", start: 0, end: 3, score: 0.845 }], { review: 0.85, targets: only }).entities[0].decision, "accept");
  // A manual threshold for a type a target covers is refused.
  nerkitError(() => route([], { perType: { ORG: { accept: 0.9 } }, targets: only }), "E_USAGE");
  nerkitError(() => route([], { perType: { PER: { accept: 0.9 } }, targets: targetThresholds(readCalibration(dir), targets("0.9"), 0.95, dir) }), "E_USAGE");
});

test("start-up errors name what to run", () => {
  const none = modelDir(undefined);
  assert.match(nerkitError(() => targetThresholds(readCalibration(none), targets("0.95"), 0.95, none), "E_USAGE").message, /has no calibration\.json; run `nerkit calibrate --model .* --data dev\.conll --target-precision 0\.95`/);
  const noThresholds = modelDir(calibration());
  assert.match(nerkitError(() => targetThresholds(readCalibration(noThresholds), targets("0.95"), 0.95, noThresholds)).message, /records no threshold at precision 0.95, confidence 0.95; run `nerkit calibrate .*--target-precision 0.95`/);
  const dir = modelDir(calibration(recorded));
  assert.match(nerkitError(() => targetThresholds(readCalibration(dir), targets("0.8"), 0.95, dir)).message, /no threshold for PER, ORG at precision 0.8/);
  assert.match(nerkitError(() => targetThresholds(readCalibration(dir), targets("PER=0.9"), 0.99, dir)).message, /no threshold for PER at precision 0.9, confidence 0.99; run `.*--target-precision PER=0.9 --confidence 0.99`/);
  assert.match(nerkitError(() => targetThresholds(readCalibration(dir), targets("0.9", "0.95"), 0.95, dir)).message, /one target/);
  // The CLI: exit 2 and the message, before anything loads or listens.
  const run = nerkit(["serve", "--model", none, "--db", ":memory:", "--target-precision", "0.95", "--no-log"]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /nerkit calibrate --model .* --data dev\.conll --target-precision 0\.95/);
  const bad = nerkit(["serve", "--model", none, "--target-precision", "PER=1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--target-precision expects/);
});

test("nerkit serve --target-precision routes /v1/entities on the recorded thresholds (bert-tiny with a calibration.json)", async () => {
  const dir = modelDir(
    calibration(
      new Map([
        // PER: every score accepted; the other types: the target could not be shown.
        ["PER", [record(0.9, 0)]],
        ["ORG", [record(0.9, null)]],
        ["LOC", [record(0.9, null)]],
        ["MISC", [record(0.9, null)]],
      ]),
    ),
  );
  for (const file of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(fixturesDir, "hf", "bert-tiny", file), join(dir, file));
  const server = spawnNerkit(["serve", "--model", dir, "--port", "0", "--no-log", "--threads", "1", "--db", ":memory:", "--target-precision", "0.9", "--audit-seed", "5", "--accept", "0.9"]);
  try {
    const [, address] = await server.waitFor(/listening on (\S+)/);
    // The settings lines follow the listening line.
    await server.waitFor(/audit sample/);
    assert.match(server.stderr(), /routing on precision targets: PER: accept >= 0\.0000 \(precision 0\.9, confidence 0\.95\); ORG: no auto-accept/);
    assert.match(server.stderr(), /audit sample: 0\.05 .*seed 5/);
    assert.match(server.stderr(), /warning: --accept is not used/);
    const text = "Angela Merkel visited Paris and met the Siemens board in Berlin on Monday with John Smith of Acme.";
    const response = await fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
    assert.equal(response.status, 200);
    const entities = ((await response.json()) as { entities: { type: string; score: number; decision: string; threshold: number | null; target: number }[] }).entities;
    // bert-tiny is random: it finds something of most types in a text this long.
    assert.ok(entities.length > 0, "no entity to check");
    for (const e of entities) {
      assert.equal(e.target, 0.9);
      if (e.type === "PER") assert.deepEqual([e.decision, e.threshold], ["accept", 0]);
      else assert.deepEqual([e.decision, e.threshold], [e.score >= 0.8 ? "review" : "reject", null]);
    }
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
  }
});
