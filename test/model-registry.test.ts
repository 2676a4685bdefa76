// The model registry (issue 12 §1) on SQLite and PostgreSQL, in process: version rows survive a
// reopen, numbers are never handed out twice, one version serves, promotion and retirement follow
// their rules, results and reviews record the version that made the result; a promotion under
// concurrent POST /v1/entities loses no request and answers later ones with the new version; a
// version that fails to load leaves the old one serving and the rows unchanged; the /v1/models
// routes, rollback included. The fake pipelines (TaggedPipeline) tell the versions apart by type.
// PostgreSQL cases are skipped, with the reason, where none can be had (postgres-server.ts).

import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import { buildApp } from "../src/serve/app.js";
import { FolderModelRegistry, openModelRegistry } from "../src/serve/models/registry-service.js";
import { SwappablePipeline } from "../src/serve/models/swappable-pipeline.js";
import { openRepository } from "../src/serve/storage/open.js";
import { JobRepository } from "../src/serve/storage/repository.js";
import { TaggedPipeline } from "./fake-pipeline.js";
import { tempDir } from "./helpers.js";
import { submitJob, jobStatus } from "./job-routes.js";
import { postgresSkipReason, testPostgres } from "./postgres-server.js";

const pgSkip = await postgresSkipReason();

/** A folder that looks like a model to addCandidate (a config.json). */
function modelFolder(folder: string): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "config.json"), "{}");
  return folder;
}

/** v1 serving, as a first start records it, in the registry of `dir`. */
async function firstVersion(registry: FolderModelRegistry): Promise<void> {
  const { id, folder } = await registry.reserve();
  const now = new Date().toISOString();
  await registry.store.insert({ id, madeBy: "serve --model ./model", folder: modelFolder(folder), status: "serving", createdAt: now, promotedAt: now });
}

interface Database {
  open(): Promise<JobRepository>;
  drop(): Promise<void>;
}

const databases: [string, () => Promise<Database>, string | undefined][] = [
  [
    "SQLite",
    async () => {
      const dir = tempDir("nerkit-registry-db-");
      return { open: () => openRepository(join(dir, "jobs.db")), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
    undefined,
  ],
  [
    "PostgreSQL",
    async () => {
      const database = (await testPostgres())!;
      return { open: () => openRepository(database.url), drop: () => database.drop() };
    },
    pgSkip,
  ],
];

for (const [name, makeDatabase, skip] of databases) {
  describe(`model versions on ${name}`, { skip }, () => {
    test("rows survive a reopen; numbers are never reused; one serving; promote, retire and their refusals", async (t) => {
      const database = await makeDatabase();
      const dir = tempDir("nerkit-registry-models-");
      t.after(async () => {
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      let repository = await database.open();
      let registry = openModelRegistry(repository, dir);
      await assert.rejects(registry.serving(), { code: "E_MODEL_NOT_FOUND" });
      await firstVersion(registry);
      const reserved = await registry.reserve();
      assert.deepEqual(reserved, { id: "v2", folder: join(dir, "v2") });
      // v2's training failed: it is never recorded, and its number is not handed out again.
      const third = await registry.reserve();
      assert.equal(third.id, "v3");
      const gate = {
        decision: "promote" as const,
        reason: "micro F1 +1.2",
        gold: { source: "gold-file" as const, path: "/g.conll", documents: 3, sha256: "ab" },
        candidate: { microF1: 0.9, perType: { PER: 0.91 }, support: 10 },
        serving: { microF1: 0.888, perType: { PER: 0.9 }, support: 10, version: "v1" },
        promoteMargin: 0.5,
        maxTypeDrop: 2,
      };
      const trainingData = { files: ["/train.conll", "reviews"], sha256: "cd", reviewedDocuments: 4 };
      const candidate = await registry.addCandidate({ id: third.id, parent: "v1", madeBy: "retrain r1", folder: modelFolder(third.folder), trainingData, gate, calibration: { method: "temperature", entities: 12 } });
      assert.equal(candidate.status, "candidate");
      await repository.close();

      repository = await database.open();
      registry = openModelRegistry(repository, dir);
      t.after(() => repository.close());
      assert.equal((await registry.reserve()).id, "v4", "a reopened database goes on counting");
      const listed = await registry.list();
      assert.deepEqual(listed.map((v) => [v.id, v.status]), [["v1", "serving"], ["v3", "candidate"]]);
      assert.deepEqual(listed[1].gate, gate);
      assert.deepEqual(listed[1].trainingData, trainingData);
      assert.deepEqual(listed[1].calibration, { method: "temperature", entities: 12 });
      assert.equal(listed[1].parent, "v1");
      assert.match(listed[1].createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      await assert.rejects(registry.retire("v1"), { code: "E_MODEL_STATUS" });
      await assert.rejects(registry.promote("v9"), { code: "E_MODEL_NOT_FOUND" });
      await assert.rejects(registry.retire("v9"), { code: "E_MODEL_NOT_FOUND" });
      assert.equal(await registry.get("x\u0000"), undefined);
      const promoted = await registry.promote("v3");
      assert.equal(promoted.status, "serving");
      assert.ok(promoted.promotedAt! >= listed[0].promotedAt!);
      assert.deepEqual((await registry.list()).map((v) => v.status), ["retired", "serving"]);
      // Rollback: the previous version promoted again.
      await registry.promote("v1");
      assert.deepEqual((await registry.list()).map((v) => v.status), ["serving", "retired"]);
      assert.equal((await registry.serving()).id, "v1");
      assert.equal((await registry.retire("v3")).status, "retired");
      // Two promotions at once: one serving row at the end, whichever came last.
      await Promise.all([registry.promote("v3"), registry.promote("v1")]);
      assert.equal((await registry.list()).filter((v) => v.status === "serving").length, 1);
    });

    test("results and reviews record the model version; the review queue and GET /v1/jobs/:id/results show it", async (t) => {
      const database = await makeDatabase();
      t.after(() => database.drop());
      const repository = await database.open();
      t.after(() => repository.close());
      const job = await repository.createJob([{ text: "a" }, { text: "b" }, { text: "c" }]);
      await repository.saveResults(job.id, [
        { seq: 0, entities: [], decision: "review", modelVersion: "v1" },
        { seq: 1, entities: [], decision: "review", modelVersion: "v2" },
        { seq: 2, entities: [], decision: "review" },
      ]);
      assert.deepEqual((await repository.results(job.id, 0, 10)).map((r) => r.modelVersion), ["v1", "v2", undefined]);
      assert.deepEqual((await repository.reviewQueue(0, 10)).map((r) => r.modelVersion), ["v1", "v2", undefined]);
      await repository.saveReview({ jobId: job.id, seq: 1, reviewer: "ana", action: "accept" });
      await repository.saveReview({ jobId: job.id, seq: 2, reviewer: "ana", action: "reject" });
      const reviewed = await repository.reviewedResults();
      assert.deepEqual(reviewed.map((r) => [r.seq, r.modelVersion, r.reviews[0].modelVersion]), [[1, "v2", "v2"], [2, undefined, undefined]]);
      const page = await repository.reviewedResultsPage(undefined, 10);
      assert.deepEqual(page.results.map((r) => r.reviews[0].modelVersion), ["v2", undefined]);
    });
  });
}

/** An app on a registry in `dir` (SQLite) serving v1 = TaggedPipeline("V1"), with v2 = TaggedPipeline("V2") a candidate. */
async function appWithTwoVersions(dir: string, load: (folder: string) => Promise<TaggedPipeline>, delayMs = 0) {
  const repository = await openRepository(join(dir, "jobs.db"));
  const registry = openModelRegistry(repository, join(dir, "models"));
  await firstVersion(registry);
  const v2 = await registry.reserve();
  await registry.addCandidate({ id: v2.id, parent: "v1", madeBy: "retrain r1", folder: modelFolder(v2.folder) });
  const v1Pipeline = new TaggedPipeline("V1", delayMs);
  const pipeline = new SwappablePipeline("v1", v1Pipeline);
  registry.attach({ pipeline, load });
  const app = await buildApp({ pipeline, registry, config: { db: join(dir, "jobs.db"), maxBatch: 4, maxWaitMs: 2 } });
  return { app, registry, repository, v1Pipeline, close: async () => (await app.close(), await repository.close()) };
}

describe("promotion without downtime", () => {
  test("concurrent POST /v1/entities during a swap: none fails, later ones are answered by the new version, the old model is closed once idle", async (t) => {
    const dir = tempDir("nerkit-registry-swap-");
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const v2Pipeline = new TaggedPipeline("V2", 5);
    const { app, registry, v1Pipeline, close } = await appWithTwoVersions(dir, async () => v2Pipeline, 5);
    t.after(close);
    const ask = async (i: number) => {
      const r = await app.inject({ method: "POST", url: "/v1/entities", payload: { text: `Maria met Jon ${i}.` } });
      return { status: r.statusCode, body: r.json() as { model_version: string; entities: { type: string }[] } };
    };
    const before = Array.from({ length: 60 }, (_, i) => ask(i));
    // Promoted while those are queued and running.
    await new Promise((r) => setTimeout(r, 10));
    const promoted = await registry.promote("v2");
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(100 + i)));
    const answers = [...(await Promise.all(before)), ...after];
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], "no request failed");
    assert.equal(promoted.status, "serving");
    // Each answer names the version whose model typed its entities.
    for (const a of answers) assert.deepEqual(new Set(a.body.entities.map((e) => e.type)), new Set([a.body.model_version === "v1" ? "V1" : "V2"]));
    assert.ok(answers.slice(0, 60).some((a) => a.body.model_version === "v1"), "some requests were answered before the swap");
    assert.deepEqual(new Set(after.map((a) => a.body.model_version)), new Set(["v2"]), "requests after the promotion answered by v2");
    await assert.doesNotReject(async () => {
      for (let i = 0; i < 100 && !v1Pipeline.closed; i++) await new Promise((r) => setTimeout(r, 10));
    });
    assert.equal(v1Pipeline.closed, true, "the old model is closed once its runs finished");
    assert.equal(v2Pipeline.closed, false);
  });

  test("a promotion recorded by another process (no pipeline: `nerkit retrain`) is followed: the serving process swaps to it", async (t) => {
    const dir = tempDir("nerkit-registry-follow-");
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { app, registry, v1Pipeline, close } = await appWithTwoVersions(dir, async (folder) => new TaggedPipeline(basename(folder).toUpperCase()));
    t.after(close);
    await registry.followServing();
    assert.equal(v1Pipeline.closed, false, "nothing to follow while v1 serves");
    const other = await openRepository(join(dir, "jobs.db"));
    try {
      assert.equal((await openModelRegistry(other, join(dir, "models")).promote("v2")).status, "serving");
    } finally {
      await other.close();
    }
    assert.equal((await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Maria" } })).json().model_version, "v1", "not followed yet");
    await registry.followServing();
    const answer = (await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Maria" } })).json() as { model_version: string; entities: { type: string }[] };
    assert.deepEqual([answer.model_version, answer.entities[0].type], ["v2", "V2"]);
  });

  test("a version that fails to load: 400 with the reason, v1 still serving and answering, rows unchanged", async (t) => {
    const dir = tempDir("nerkit-registry-fail-");
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { app, registry, v1Pipeline, close } = await appWithTwoVersions(dir, async (folder) => {
      const { NerkitError } = await import("../src/errors.js");
      throw new NerkitError("E_FORMAT", "broken weights", { file: folder });
    });
    t.after(close);
    const rowsBefore = await registry.list();
    const refused = await app.inject({ method: "POST", url: "/v1/models/v2/promote" });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.match(refused.body, /broken weights/);
    assert.deepEqual(await registry.list(), rowsBefore);
    const answer = await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Maria" } });
    assert.equal((answer.json() as { model_version: string }).model_version, "v1");
    assert.equal(v1Pipeline.closed, false);
  });

  test("the /v1/models routes: list, one, 404, promote, 409 on retiring the serving one, rollback; job results and the review queue name the version", async (t) => {
    const dir = tempDir("nerkit-registry-routes-");
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { app, close } = await appWithTwoVersions(dir, async (folder) => new TaggedPipeline(basename(folder).toUpperCase()));
    t.after(close);
    const list = (await app.inject("/v1/models")).json() as { serving: string; models: { id: string; status: string }[] };
    assert.equal(list.serving, "v1");
    assert.deepEqual(list.models.map((m) => [m.id, m.status]), [["v1", "serving"], ["v2", "candidate"]]);
    assert.equal((await app.inject("/v1/models/v2")).json().madeBy, "retrain r1");
    const missing = await app.inject("/v1/models/v7");
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, "E_MODEL_NOT_FOUND");
    assert.equal((await app.inject({ method: "POST", url: "/v1/models/v7/promote" })).statusCode, 404);

    const first = await submitJob(app, ["BMW hired Maria."]);
    for (let i = 0; i < 500 && (await jobStatus(app, first.id)).status !== "done"; i++) await new Promise((r) => setTimeout(r, 5));
    const promoted = await app.inject({ method: "POST", url: "/v1/models/v2/promote" });
    assert.equal(promoted.statusCode, 200, promoted.body);
    assert.deepEqual([promoted.json().id, promoted.json().status], ["v2", "serving"]);
    const refused = await app.inject({ method: "POST", url: "/v1/models/v2/retire" });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, "E_MODEL_STATUS");
    const second = await submitJob(app, ["BMW hired Maria."]);
    for (let i = 0; i < 500 && (await jobStatus(app, second.id)).status !== "done"; i++) await new Promise((r) => setTimeout(r, 5));
    const versionOf = async (id: string) => (await app.inject(`/v1/jobs/${id}/results`)).body.trim().split("\n").map((l) => (JSON.parse(l) as { model_version: string }).model_version);
    assert.deepEqual([await versionOf(first.id), await versionOf(second.id)], [["v1"], ["v2"]]);
    const queue = (await app.inject("/v1/review")).json() as { items: { id: string; model_version: string; entities: { type: string }[] }[] };
    assert.deepEqual(queue.items.map((i) => [i.id.split(":")[0], i.model_version, i.entities[0].type]), [[first.id, "v1", "V1"], [second.id, "v2", "V2"]]);

    // Rollback: v1 again, v2 retired; then v2 may be retired.
    const rolledBack = await app.inject({ method: "POST", url: "/v1/models/v1/promote" });
    assert.equal(rolledBack.json().status, "serving");
    assert.equal((await app.inject({ method: "POST", url: "/v1/entities", payload: { text: "Maria" } })).json().model_version, "v1");
    assert.deepEqual(((await app.inject("/v1/models")).json() as { models: { status: string }[] }).models.map((m) => m.status), ["serving", "retired"]);
    assert.equal((await app.inject({ method: "POST", url: "/v1/models/v2/retire" })).json().status, "retired");
    const docs = (await app.inject("/docs/json")).json() as { paths: Record<string, unknown> };
    for (const path of ["/v1/models", "/v1/models/{id}", "/v1/models/{id}/promote", "/v1/models/{id}/retire"]) assert.ok(path in docs.paths, path);
  });
});
