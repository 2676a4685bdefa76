// What belongs to a model version follows a promotion (issue 12 §1 with issue 11 §2 and §4): with
// serve --target-precision, /v1/entities and batch jobs route on the accept thresholds the serving
// version's own calibration.json records; a promotion to a version whose calibration lacks a target
// is refused (409 E_MODEL_CALIBRATION, nothing changes), and one made by another process is followed
// with the lacking types routed to review, never to the raw thresholds; the drift monitor takes the
// new version's reference profile (or says it has none) and restarts its window; GET /v1/labels
// describes the serving version's calibration (two real tiny models). Fake pipelines elsewhere: they
// find PER at 0.99 and ORG at 0.85 (fake-pipeline.ts), so the thresholds written here decide.

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runWorker } from "../src/serve/worker.js";
import { redisSkipReason, startRedis } from "./redis-server.js";
import { spawnNerkit, waitUntil } from "./processes.js";
import { CALIBRATION_FILE, CalibrationFile, PrecisionThreshold, calibrationJson } from "../src/metrics/calibration-file.js";
import { addPrecisionTarget, chooseThreshold, thresholdsLike } from "../src/metrics/precision-thresholds.js";
import { readModelCalibration } from "../src/model/checkpoint/calibration.js";
import { loadPipeline } from "../src/infer/pipeline.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { DriftReport } from "../src/serve/drift/monitor.js";
import { writeReferenceProfile } from "../src/serve/drift/profile-writer.js";
import { loadReferenceProfile } from "../src/serve/drift/reference.js";
import { openModelRegistry } from "../src/serve/models/registry-service.js";
import { SwappablePipeline } from "../src/serve/models/swappable-pipeline.js";
import { askedTargets, precisionAsk, targetThresholds } from "../src/serve/precision-routing.js";
import { openRepository } from "../src/serve/storage/open.js";
import { calibratedModel, temperatureCalibration } from "./calibration-cases.js";
import { FakePipeline } from "./fake-pipeline.js";
import { tempDir } from "./helpers.js";
import { jobStatus, submitJob } from "./job-routes.js";

function record(target: number, threshold: number | null): PrecisionThreshold {
  return { target, confidence: 0.95, threshold, lowerBound: threshold === null ? null : target + 0.001, accepted: 100, correct: 99, heldOut: 200, autoAcceptRate: 0.5 };
}

/** A temperature calibration (calibration-cases.ts) recording `thresholds`. */
function calibration(thresholds: Map<string, PrecisionThreshold[]>, temperature = 1.3): CalibrationFile {
  return { ...temperatureCalibration(temperature), thresholds };
}

// At precision 0.95, v1 accepts PER from 0.995 (0.99 goes to review) and never ORG; v2 accepts PER from 0.97 and ORG from 0.8.
const V1 = new Map([["PER", [record(0.95, 0.995)]], ["ORG", [record(0.95, null)]]]);
const V2 = new Map([["PER", [record(0.95, 0.97)]], ["ORG", [record(0.95, 0.8)]]]);
// Calibrated with another target only: nothing recorded at 0.95.
const OTHER_TARGET = new Map([["PER", [record(0.9, 0.5)]], ["ORG", [record(0.9, 0.5)]]]);

const ask = precisionAsk(addPrecisionTarget("0.95"), 0.95);

interface VersionFiles {
  calibration: CalibrationFile;
  /** Texts the version's reference-profile.json is made of (none: no profile). */
  profile?: { texts: string[]; path: string };
}

async function writeVersion(folder: string, files: VersionFiles): Promise<string> {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "config.json"), "{}");
  writeFileSync(join(folder, CALIBRATION_FILE), JSON.stringify(calibrationJson(files.calibration)));
  if (files.profile) await writeReferenceProfile(folder, new FakePipeline(), files.profile.texts, { madeBy: "test", path: files.profile.path, sha256: "0".repeat(64), unit: "lines" });
  return folder;
}

/** A server as `nerkit serve --target-precision 0.95` builds it: v1 serving, v2 a candidate, fake models (with `queue`: jobs go to workers). */
async function twoVersions(dir: string, v1: VersionFiles, v2: VersionFiles, queue?: string) {
  const db = join(dir, "jobs.db");
  const repository = await openRepository(db);
  const registry = openModelRegistry(repository, join(dir, "models"));
  const first = await registry.reserve();
  const now = new Date().toISOString();
  await registry.store.insert({ id: first.id, madeBy: "serve --model ./model", folder: await writeVersion(first.folder, v1), status: "serving", createdAt: now, promotedAt: now });
  const second = await registry.reserve();
  await registry.addCandidate({ id: second.id, parent: "v1", madeBy: "retrain r1", folder: await writeVersion(second.folder, v2) });
  const pipeline = new SwappablePipeline("v1", new FakePipeline());
  const loaded: string[] = [];
  registry.attach({ pipeline, load: async (folder) => (loaded.push(folder), new FakePipeline()) });
  const targets = targetThresholds(readModelCalibration(first.folder), askedTargets(ask), ask.confidence, first.folder);
  const app = await buildApp({
    pipeline,
    registry,
    precision: ask,
    drift: loadReferenceProfile(first.folder),
    config: { db, maxBatch: 4, maxWaitMs: 2, targets, driftWindow: 50, auditRate: 0, ...(queue ? { queue } : {}) },
  });
  return { app, registry, loaded, close: async () => (await app.close(), await repository.close()) };
}

type Routed = { type: string; decision: string; threshold?: number | null; target?: number };

async function entities(app: Awaited<ReturnType<typeof twoVersions>>["app"], text = "Maria met IBM.") {
  const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { text } });
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json() as { model_version: string; entities: Routed[] };
  return { version: body.model_version, byType: new Map(body.entities.map((e) => [e.type, [e.decision, e.threshold]])) };
}

async function jobDecisions(app: Awaited<ReturnType<typeof twoVersions>>["app"]) {
  const job = await submitJob(app, ["Maria met IBM."]);
  await waitUntil(async () => ((await jobStatus(app, job.id)).status === "done" ? true : undefined), "the job to finish", 20_000, 5);
  const [line] = (await app.inject(`/v1/jobs/${job.id}/results`)).body.trim().split("\n");
  const result = JSON.parse(line) as { model_version: string; entities: Routed[] };
  return { version: result.model_version, byType: new Map(result.entities.map((e) => [e.type, [e.decision, e.threshold]])) };
}


/** Promotes `version` as another process would (`nerkit retrain`): through a connection of its own to the folder's job database. */
async function promoteFromAnotherProcess(dir: string, version: string): Promise<void> {
  const other = await openRepository(join(dir, "jobs.db"));
  try {
    await openModelRegistry(other, join(dir, "models")).promote(version);
  } finally {
    await other.close();
  }
}
test("after POST /v1/models/v2/promote, /v1/entities and batch jobs route on v2's calibration.json thresholds", async (t) => {
  const dir = tempDir("nerkit-follow-routing-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { app, close } = await twoVersions(dir, { calibration: calibration(V1) }, { calibration: calibration(V2) });
  t.after(close);
  const v1 = new Map([["PER", ["review", 0.995]], ["ORG", ["review", null]]]);
  assert.deepEqual(await entities(app), { version: "v1", byType: v1 });
  assert.deepEqual(await jobDecisions(app), { version: "v1", byType: v1 });

  const promoted = await app.inject({ method: "POST", url: "/v1/models/v2/promote" });
  assert.equal(promoted.statusCode, 200, promoted.body);
  const v2 = new Map([["PER", ["accept", 0.97]], ["ORG", ["accept", 0.8]]]);
  assert.deepEqual(await entities(app), { version: "v2", byType: v2 });
  assert.deepEqual(await jobDecisions(app), { version: "v2", byType: v2 });

  // Rollback brings v1's thresholds back.
  assert.equal((await app.inject({ method: "POST", url: "/v1/models/v1/promote" })).statusCode, 200);
  assert.deepEqual(await entities(app), { version: "v1", byType: v1 });
});

test("a version whose calibration lacks serve's target: promotion refused (409, naming it); promoted elsewhere, its types go to review", async (t) => {
  const dir = tempDir("nerkit-follow-missing-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { app, registry, loaded, close } = await twoVersions(dir, { calibration: calibration(V1), profile: { texts: ["Maria met IBM."], path: "v1.txt" } }, { calibration: calibration(OTHER_TARGET) });
  t.after(close);
  const rowsBefore = await registry.list();
  const refused = await app.inject({ method: "POST", url: "/v1/models/v2/promote" });
  assert.equal(refused.statusCode, 409, refused.body);
  const error = refused.json().error as { code: string; message: string };
  assert.equal(error.code, "E_MODEL_CALIBRATION");
  assert.match(error.message, /model version v2 is not promoted: .*records no threshold for PER, ORG at precision 0\.95, confidence 0\.95; run `nerkit calibrate --model \S+v2 --data dev\.conll --target-precision 0\.95`/);
  assert.deepEqual(loaded, [], "refused before loading the model");
  assert.deepEqual(await registry.list(), rowsBefore, "rows unchanged");
  assert.deepEqual(await entities(app), { version: "v1", byType: new Map([["PER", ["review", 0.995]], ["ORG", ["review", null]]]) });

  // `nerkit retrain` (no pipeline, no targets) promotes v2; this server follows the database.
  await promoteFromAnotherProcess(dir, "v2");
  await registry.followServing();
  // PER at 0.99 would be accepted on the raw --accept 0.95: it goes to review instead, with no threshold.
  const followed = await entities(app);
  assert.deepEqual(followed, { version: "v2", byType: new Map([["PER", ["review", null]], ["ORG", ["review", null]]]) });
  // v2 has no reference profile: drift is off for it, and says so.
  const drift = (await app.inject("/v1/monitor")).json().drift as DriftReport;
  assert.deepEqual([drift.modelVersion, drift.enabled, drift.documents], ["v2", false, 0]);
  assert.match(drift.reason ?? "", /no reference-profile\.json/);
});

test("drift: a promotion brings the new version's reference profile and an empty window; /v1/monitor names the version", async (t) => {
  const dir = tempDir("nerkit-follow-drift-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v1Texts = ["Maria met IBM.", "Jon saw Paris."];
  const v2Texts = ["Plain words only here.", "Nothing capitalised... almost", "Rome"];
  const { app, close } = await twoVersions(dir, { calibration: calibration(V1), profile: { texts: v1Texts, path: "v1.txt" } }, { calibration: calibration(V2), profile: { texts: v2Texts, path: "v2.txt" } });
  t.after(close);
  const monitor = async () => (await app.inject("/v1/monitor")).json().drift as DriftReport;
  for (let i = 0; i < 3; i++) await entities(app, `Maria met IBM ${i}.`);
  const before = await monitor();
  assert.deepEqual([before.modelVersion, before.enabled, before.documents, before.reference?.data.path, before.reference?.documents], ["v1", true, 3, "v1.txt", 2]);

  assert.equal((await app.inject({ method: "POST", url: "/v1/models/v2/promote" })).statusCode, 200);
  const swapped = await monitor();
  assert.deepEqual([swapped.modelVersion, swapped.enabled, swapped.documents, swapped.entities, swapped.reference?.data.path, swapped.reference?.documents], ["v2", true, 0, 0, "v2.txt", 3]);
  await entities(app, "Anna met Bob.");
  const after = await monitor();
  assert.deepEqual([after.documents, after.entities], [1, 2], "the window holds only what v2 read");
  assert.deepEqual(after.histograms?.reference, swapped.histograms?.reference, "compared with v2's reference");
});

test("GET /v1/labels describes the serving version's calibration after a promotion (two real tiny models)", async (t) => {
  const dir = tempDir("nerkit-follow-labels-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = (name: string) => (mkdirSync(join(dir, name)), join(dir, name));
  const v1Folder = calibratedModel("bert", temperatureCalibration(1.5), folder("m1"));
  const v2Folder = calibratedModel("bert", temperatureCalibration(0.7), folder("m2"));
  const repository = await openRepository(join(dir, "jobs.db"));
  t.after(() => repository.close());
  const registry = openModelRegistry(repository, join(dir, "models"));
  const now = new Date().toISOString();
  await registry.store.insert({ id: (await registry.reserve()).id, madeBy: "serve --model m1", folder: v1Folder, status: "serving", createdAt: now, promotedAt: now });
  await registry.addCandidate({ id: (await registry.reserve()).id, parent: "v1", madeBy: "test", folder: v2Folder });
  const load = (folder: string): Promise<PipelineLike> => loadPipeline(folder, { threads: 1 });
  const pipeline = new SwappablePipeline("v1", await load(v1Folder));
  registry.attach({ pipeline, load });
  const app = await buildApp({ pipeline, registry, config: { db: join(dir, "jobs.db"), auditRate: 0 } });
  t.after(() => app.close());
  const labels = async () => (await app.inject("/v1/labels")).json() as { calibration?: { temperature: number } };
  const score = async () => ((await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Angela Merkel visited Paris with John Smith of Acme." } })).json() as { model_version: string; entities: { score: number; raw_score: number }[] });
  assert.equal((await labels()).calibration?.temperature, 1.5);
  const before = await score();
  assert.equal((await app.inject({ method: "POST", url: "/v1/models/v2/promote" })).statusCode, 200);
  assert.equal((await labels()).calibration?.temperature, 0.7);
  const after = await score();
  assert.deepEqual([before.model_version, after.model_version], ["v1", "v2"]);
  // Same weights, other temperature: the raw scores agree, the calibrated ones moved (T 1.5 flattens, 0.7 sharpens).
  assert.ok(before.entities.length > 0, "bert-tiny found nothing to compare");
  assert.deepEqual(after.entities.map((e) => e.raw_score), before.entities.map((e) => e.raw_score));
  assert.ok(after.entities.every((e, i) => e.score >= before.entities[i].score), "v2's sharper calibration scores each entity at least as high");
});

test("a retrain calibrates its candidate for the targets the serving version records (thresholdsLike)", () => {
  // 60 PER entities all right: precision 0.9 at confidence 0.95 is shown (59 needed), 0.95 at 0.99 is not (90 needed).
  const per = Array.from({ length: 60 }, (_, i) => ({ score: 0.5 + i / 200, correct: true }));
  const like = new Map([["PER", [record(0.9, 0.2), { ...record(0.95, 0.3), confidence: 0.99 }]], ["LOC", [record(0.9, 0.4)]]]);
  const chosen = thresholdsLike(like, new Map([["PER", per], ["MISC", per]]));
  assert.deepEqual([...chosen.keys()], ["PER", "LOC"], "the serving version's types, no other");
  assert.deepEqual(chosen.get("PER")!.map((r) => [r.target, r.confidence]), [[0.9, 0.95], [0.95, 0.99]]);
  assert.deepEqual(chosen.get("PER")![0], chooseThreshold(per, 0.9, 0.95).record);
  assert.equal(chosen.get("PER")![0].threshold, 0.5, "every PER entity accepted");
  assert.equal(chosen.get("PER")![1].threshold, null, "too few entities for 0.95 at 0.99");
  // A type without held-out entities: recorded, never auto-accepted.
  assert.deepEqual([chosen.get("LOC")![0].threshold, chosen.get("LOC")![0].heldOut], [null, 0]);
});

test("nerkit worker routes each chunk on the thresholds of the version it follows", { skip: redisSkipReason() }, async (t) => {
  const dir = tempDir("nerkit-follow-worker-");
  const redis = await startRedis();
  t.after(async () => (await redis.stop(), rmSync(dir, { recursive: true, force: true })));
  const { app, close } = await twoVersions(dir, { calibration: calibration(V1) }, { calibration: calibration(V2) }, redis.url);
  t.after(close);
  let stop!: () => void;
  const swaps: string[] = [];
  const running = runWorker({
    queue: redis.url,
    db: join(dir, "jobs.db"),
    loadPipeline: async () => assert.fail("the registry has a serving version"),
    loadVersion: async () => new FakePipeline(),
    onModelSwap: (version) => swaps.push(version),
    concurrency: 1,
    // The worker's own flags, which chunks carrying the server's routing override.
    routing: { accept: 0.5, review: 0.1 },
    stop: new Promise<void>((resolve) => (stop = resolve)),
  });
  t.after(async () => (stop(), await running));
  assert.deepEqual(await jobDecisions(app), { version: "v1", byType: new Map([["PER", ["review", 0.995]], ["ORG", ["review", null]]]) });
  // Promoted by another process (`nerkit retrain`); the worker reads the serving row before the next chunk.
  await promoteFromAnotherProcess(dir, "v2");
  assert.deepEqual(await jobDecisions(app), { version: "v2", byType: new Map([["PER", ["accept", 0.97]], ["ORG", ["accept", 0.8]]]) });
  assert.deepEqual(swaps, ["v2"]);
});

test("nerkit serve --target-precision: after POST /v1/models/v2/promote, /v1/entities routes on v2's thresholds; v3 lacking the target is refused", async (t) => {
  const dir = tempDir("nerkit-follow-serve-");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const types = ["PER", "ORG", "LOC", "MISC"];
  // v1 accepts every type from 0; v2 could not show the target for any (no auto-accept); v3 was calibrated for 0.8 only.
  const v1 = calibratedModel("bert", calibration(new Map(types.map((type) => [type, [record(0.9, 0)]]))), (mkdirSync(join(dir, "m1")), join(dir, "m1")));
  const db = join(dir, "jobs.db");
  const server = spawnNerkit(["serve", "--model", v1, "--models", join(dir, "models"), "--db", db, "--port", "0", "--no-log", "--threads", "1", "--target-precision", "0.9", "--audit-rate", "0"]);
  t.after(async () => (server.child.kill("SIGTERM"), await server.exited));
  const [, address] = await server.waitFor(/listening on (\S+)/);
  const repository = await openRepository(db);
  try {
    const registry = openModelRegistry(repository, join(dir, "models"));
    for (const [thresholds, parent] of [[new Map(types.map((type) => [type, [record(0.9, null)]])), "v1"], [new Map(types.map((type) => [type, [record(0.8, 0)]])), "v2"]] as const) {
      const { id, folder } = await registry.reserve();
      mkdirSync(folder);
      await registry.addCandidate({ id, parent, madeBy: "test", folder: calibratedModel("bert", calibration(new Map(thresholds)), folder) });
    }
  } finally {
    await repository.close();
  }
  const text = "Angela Merkel visited Paris and met the Siemens board in Berlin on Monday with John Smith of Acme.";
  const read = async () => {
    const response = await fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
    assert.equal(response.status, 200);
    return (await response.json()) as { model_version: string; entities: { score: number; decision: string; threshold: number | null }[] };
  };
  const before = await read();
  assert.ok(before.entities.length > 0, "bert-tiny found nothing to route");
  assert.equal(before.model_version, "v1");
  for (const e of before.entities) assert.deepEqual([e.decision, e.threshold], ["accept", 0]);
  const promote = (id: string) => fetch(`${address}/v1/models/${id}/promote`, { method: "POST" });
  assert.equal((await promote("v2")).status, 200);
  const after = await read();
  assert.equal(after.model_version, "v2");
  for (const e of after.entities) assert.deepEqual([e.decision, e.threshold], [e.score >= 0.8 ? "review" : "reject", null]);
  const refused = await promote("v3");
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /v3 is not promoted: .*no threshold for .* at precision 0\.9/);
  assert.equal((await read()).model_version, "v2");
});
