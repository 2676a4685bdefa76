// The retrain routes (issue 12 §3) in process, on SQLite and PostgreSQL: documents reviewed through
// POST /v1/review, then POST /v1/retrain (202 with an id and its URL; 409 while it runs), GET
// /v1/retrain/:id (progress, log tail, candidate, gate record; 404 for an unknown id) and GET
// /v1/retrain; a trainer killed with SIGKILL ends the retrain failed with serving untouched; a
// retrain a stopped server left running reads as failed; --retrain-after starts one by itself; a
// promotion the registry refuses (E_MODEL_CALIBRATION) ends the retrain done with its candidate
// kept and the reason recorded; POST /v1/retrain/:id/cancel stops the trainer (cancelled, no
// candidate, serving untouched; 409 once ended, 404 for an unknown id).
// The registry is in memory (test/memory-registry.ts); the model trained is the bert-tiny fixture.

import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { NerkitError } from "../src/errors.js";
import { buildApp } from "../src/serve/app.js";
import { ModelVersion } from "../src/serve/models/registry.js";
import { CANCELLED_BY_REQUEST } from "../src/serve/retrain/service.js";
import { openRepository } from "../src/serve/storage/open.js";
import { retrainStore } from "../src/serve/storage/open-retrains.js";
import { tempDir } from "./helpers.js";
import { FakePipeline } from "./fake-pipeline.js";
import { submitJob, jobStatus } from "./job-routes.js";
import { MemoryRegistry } from "./memory-registry.js";
import { postgresSkipReason, testPostgres, TestDatabase } from "./postgres-server.js";
import { demoGold, originalTraining, reviewedDocuments, shortTraining, tinyRegistry } from "./retrain-cases.js";
import { waitUntil } from "./processes.js";

const postgresSkip = await postgresSkipReason();
const dir = tempDir("nerkit-retrain-routes-");
after(() => rmSync(dir, { recursive: true, force: true }));
const original = originalTraining(dir);
let files = 0;

interface Retrain {
  id: string;
  status: string;
  progress: number;
  phase: string;
  log: string[];
  candidate?: string;
  promoted?: boolean;
  promotionRefused?: string;
  gate?: { decision: string; reason: string; serving: { version: string } };
  error?: string;
}

/** A registry that refuses every promotion as serve --target-precision refuses a version whose calibration lacks a target. */
class RefusingRegistry extends MemoryRegistry {
  override async promote(id: string): Promise<ModelVersion> {
    throw new NerkitError("E_MODEL_CALIBRATION", `model version ${id} is not promoted: serve routes on --target-precision, and its calibration has no threshold for PER at 0.95`);
  }
}

/** Whether process pid still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An app whose job database holds `count` documents, each corrected by a reviewer to its gold spans. */
async function reviewedApp(
  db: string,
  registry: MemoryRegistry,
  options: { trainArgs?: string[]; after?: number; count?: number; onTrainer?: (id: string, pid: number) => void; settings?: { holdout?: number; promoteMargin?: number; maxTypeDrop?: number } } = {},
): Promise<FastifyInstance> {
  const app = await buildApp({
    pipeline: new FakePipeline(),
    config: { db },
    retrain: { registry, settings: { holdout: 0.3, gold: demoGold, trainArgs: options.trainArgs ?? shortTraining, threads: 1, ...options.settings }, after: options.after, onTrainer: options.onTrainer },
  });
  const documents = reviewedDocuments(options.count ?? 12);
  const { id: jobId } = await submitJob(app, documents.map((d) => d.text));
  await waitUntil(async () => ((await jobStatus(app, jobId)).status === "done" ? true : undefined), "the job to finish");
  for (const [seq, d] of documents.entries()) {
    const r = await app.inject({ method: "POST", url: `/v1/review/${jobId}:${seq}`, payload: { reviewer: "ann", action: "correct", spans: d.reviews[0].spans } });
    assert.equal(r.statusCode, 200, r.body);
  }
  return app;
}

async function retrain(app: FastifyInstance, id: string): Promise<Retrain> {
  const r = await app.inject(`/v1/retrain/${id}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as Retrain;
}

const finished = (app: FastifyInstance, id: string) => waitUntil(async () => {
  const r = await retrain(app, id);
  return r.status === "running" ? undefined : r;
}, `retrain ${id} to end`, 60_000, 100);

function suite(name: string, freshDatabase: () => Promise<string>, skip?: string) {
  describe(`retrain routes on ${name}`, { skip }, () => {
    test("202 with an id, 409 while it runs, 404 for an unknown id, progress and the gate record once done", async () => {
      const registry = tinyRegistry(join(tempDir(), "models"), original);
      const db = await freshDatabase();
      const app = await reviewedApp(db, registry);
      try {
        assert.deepEqual((await app.inject("/v1/retrain")).json(), { retrains: [] });
        const created = await app.inject({ method: "POST", url: "/v1/retrain" });
        assert.equal(created.statusCode, 202, created.body);
        const { id, status } = created.json() as Retrain;
        assert.deepEqual([id, status, created.headers.location], ["r1", "running", "/v1/retrain/r1"]);
        const again = await app.inject({ method: "POST", url: "/v1/retrain" });
        assert.equal(again.statusCode, 409, again.body);
        assert.equal(again.json().error.code, "E_RETRAIN_RUNNING");
        assert.match(again.json().error.message, /retrain r1 is running/);
        for (const unknown of ["r99", "nonsense", "r0"]) {
          const missing = await app.inject(`/v1/retrain/${unknown}`);
          assert.equal(missing.statusCode, 404);
          assert.deepEqual(missing.json(), { error: { code: "E_NOT_FOUND", message: `no retrain ${unknown}` } });
        }
        const done = await finished(app, id);
        assert.equal(done.status, "done", JSON.stringify(done));
        assert.equal(done.progress, 1);
        assert.equal(done.candidate, "v2");
        assert.equal(done.gate?.serving.version, "v1");
        assert.equal(done.promoted, done.gate?.decision === "promote");
        assert.ok(done.log.some((l) => /^step 2\/2\b/.test(l)), done.log.join("\n"));
        assert.ok(done.log.some((l) => l === done.gate?.reason));
        assert.equal((await registry.get("v2"))?.status, done.promoted ? "serving" : "candidate");
        const list = (await app.inject("/v1/retrain")).json() as { retrains: Retrain[] };
        assert.deepEqual(list.retrains.map((r) => [r.id, r.status]), [["r1", "done"]]);
        // Another may start now (the refused start took no id); closing the app stops it.
        const next = await app.inject({ method: "POST", url: "/v1/retrain" });
        assert.equal(next.statusCode, 202, next.body);
        assert.equal(next.json().id, "r2");
      } finally {
        await app.close();
      }
      const reopened = await buildApp({ pipeline: new FakePipeline(), config: { db }, retrain: { registry } });
      try {
        const list = (await reopened.inject("/v1/retrain")).json() as { retrains: Retrain[] };
        assert.deepEqual(list.retrains.map((r) => [r.id, r.status]), [["r2", "failed"], ["r1", "done"]]);
      } finally {
        await reopened.close();
      }
    });

    test("SIGKILL of the trainer: the retrain reads failed, serving is untouched", async () => {
      const registry = tinyRegistry(join(tempDir(), "models"), original);
      let killed = false;
      const app = await reviewedApp(await freshDatabase(), registry, {
        trainArgs: ["--max-steps", "100000", "--batch-size", "1", "--threads", "1"],
        onTrainer: (_id, pid) => {
          setTimeout(() => {
            process.kill(pid, "SIGKILL");
            killed = true;
          }, 300);
        },
      });
      try {
        assert.equal((await app.inject({ method: "POST", url: "/v1/retrain" })).statusCode, 202);
        const failed = await finished(app, "r1");
        assert.ok(killed);
        assert.equal(failed.status, "failed");
        assert.match(failed.error ?? "", /the trainer \(nerkit train\) was killed \(SIGKILL\)/);
        assert.equal(failed.candidate, undefined);
        assert.deepEqual((await registry.list()).map((v) => [v.id, v.status]), [["v1", "serving"]]);
      } finally {
        await app.close();
      }
    });

    test("regression: a promotion refused (E_MODEL_CALIBRATION) ends the retrain done, its candidate kept with the gate record and the reason", async () => {
      const registry = new RefusingRegistry(join(tempDir(), "models"), { folder: tinyRegistry(dir, original).versions[0].folder, trainingData: { files: [original], sha256: "0".repeat(64), reviewedDocuments: 0 } });
      // Judged and calibrated on the gold file (no holdout), and thresholds any candidate passes: the gate says promote.
      const app = await reviewedApp(await freshDatabase(), registry, { settings: { holdout: 0, promoteMargin: -100, maxTypeDrop: 100 } });
      try {
        assert.equal((await app.inject({ method: "POST", url: "/v1/retrain" })).statusCode, 202);
        const done = await finished(app, "r1");
        assert.equal(done.status, "done", JSON.stringify(done));
        assert.equal(done.gate?.decision, "promote", done.gate?.reason);
        assert.equal(done.candidate, "v2");
        assert.equal(done.promoted, false);
        assert.match(done.promotionRefused ?? "", /^the gate would promote v2, but the promotion was refused \(E_MODEL_CALIBRATION\): model version v2 is not promoted: .*no threshold for PER/);
        assert.equal(done.error, undefined);
        assert.ok(done.log.includes(done.promotionRefused!), done.log.join("\n"));
        assert.deepEqual((await registry.list()).map((v) => [v.id, v.status]), [["v1", "serving"], ["v2", "candidate"]]);
        assert.equal((await registry.get("v2"))?.gate?.decision, "promote");
      } finally {
        await app.close();
      }
    });

    test("POST /v1/retrain/:id/cancel stops the trainer: cancelled, no candidate, serving untouched; 409 once ended, 404 unknown", async () => {
      const root = join(tempDir(), "models");
      const registry = tinyRegistry(root, original);
      let trainer: number | undefined;
      const app = await reviewedApp(await freshDatabase(), registry, { trainArgs: ["--max-steps", "100000", "--batch-size", "1", "--threads", "1"], onTrainer: (_id, pid) => (trainer = pid) });
      try {
        assert.equal((await app.inject({ method: "POST", url: "/v1/retrain" })).statusCode, 202);
        const pid = await waitUntil(() => trainer, "the trainer to start", 60_000);
        await waitUntil(async () => ((await retrain(app, "r1")).progress > 0.02 ? true : undefined), "the trainer's first step", 60_000, 50);
        const cancelled = await app.inject({ method: "POST", url: "/v1/retrain/r1/cancel" });
        assert.equal(cancelled.statusCode, 200, cancelled.body);
        assert.equal(cancelled.json().status, "cancelled");
        await waitUntil(() => (alive(pid) ? undefined : true), "the trainer to exit", 15_000, 50);
        await waitUntil(() => (existsSync(join(root, "v2")) ? undefined : true), "the half-made version folder to go", 15_000, 50);
        const r = await retrain(app, "r1");
        assert.deepEqual([r.status, r.phase, r.error, r.candidate, r.promoted], ["cancelled", "cancelled", CANCELLED_BY_REQUEST, undefined, undefined]);
        assert.equal(r.log.at(-1), `cancelled: ${CANCELLED_BY_REQUEST}`);
        assert.deepEqual((await registry.list()).map((v) => [v.id, v.status]), [["v1", "serving"]]);
        const again = await app.inject({ method: "POST", url: "/v1/retrain/r1/cancel" });
        assert.equal(again.statusCode, 409, again.body);
        assert.deepEqual(again.json().error, { code: "E_RETRAIN_FINISHED", message: "retrain r1 has ended already (cancelled): nothing to cancel" });
        for (const unknown of ["r9", "nonsense"]) assert.equal((await app.inject({ method: "POST", url: `/v1/retrain/${unknown}/cancel` })).statusCode, 404);
        // The end of the cancelled run did not overwrite its row.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal((await retrain(app, "r1")).status, "cancelled");
      } finally {
        await app.close();
      }
    });

    test("a retrain a stopped server left running reads as failed on the next start", async () => {
      const db = await freshDatabase();
      const repository = await openRepository(db);
      try {
        const store = await retrainStore(repository);
        assert.equal((await store.start(0))?.id, "r1");
        assert.equal(await store.start(0), undefined, "a second running retrain is refused by the database");
      } finally {
        await repository.close();
      }
      const app = await buildApp({ pipeline: new FakePipeline(), config: { db }, retrain: { registry: tinyRegistry(join(tempDir(), "models"), original) } });
      try {
        const r = await retrain(app, "r1");
        assert.equal(r.status, "failed");
        assert.equal(r.error, "the server stopped while this retrain ran");
      } finally {
        await app.close();
      }
    });
  });
}

suite("SQLite", async () => join(dir, `jobs-${files++}.db`));

const databases: TestDatabase[] = [];
after(async () => {
  for (const d of databases) await d.drop();
});
suite(
  "PostgreSQL",
  async () => {
    const database = (await testPostgres())!;
    databases.push(database);
    return database.url;
  },
  postgresSkip,
);

test("POST /v1/retrain before any job database exists: 409, nothing to retrain on", async () => {
  const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(dir, "never-created.db") }, retrain: { registry: tinyRegistry(join(tempDir(), "models"), original) } });
  try {
    const r = await app.inject({ method: "POST", url: "/v1/retrain" });
    assert.equal(r.statusCode, 409, r.body);
    assert.deepEqual(r.json(), { error: { code: "E_NOTHING_TO_RETRAIN", message: "no job database yet, so no reviewed document to retrain on" } });
    assert.deepEqual((await app.inject("/v1/retrain")).json(), { retrains: [] });
    assert.equal((await app.inject("/v1/retrain/r1")).statusCode, 404);
  } finally {
    await app.close();
  }
});

test("serve --retrain-after: a retrain starts by itself once that many reviews came", async () => {
  const registry = tinyRegistry(join(tempDir(), "models"), original);
  const app = await reviewedApp(join(dir, `jobs-${files++}.db`), registry, { after: 12, count: 12 });
  try {
    const r = await waitUntil(async () => ((await app.inject("/v1/retrain")).json() as { retrains: Retrain[] }).retrains[0], "a retrain to start", 10_000, 20);
    assert.equal(r.id, "r1");
    assert.equal(r.status, "running");
  } finally {
    await app.close();
  }
  // 11 reviews do not start one.
  const fewer = await reviewedApp(join(dir, `jobs-${files++}.db`), tinyRegistry(join(tempDir(), "models"), original), { after: 12, count: 11 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual((await fewer.inject("/v1/retrain")).json(), { retrains: [] });
  } finally {
    await fewer.close();
  }
});
