// The retrain queue's failure paths, in process (the happy path and the server's sweep of a killed
// worker run on real processes: retrain-worker-processes.test.ts): a queue that cannot be reached
// fails the retrain it was to take (503 for the caller, the row failed, the next start allowed);
// a retrain whose worker died while another `--retrain` worker is connected is failed by that
// worker's stalled check (BullMQ's maxStalledCount 0), not run again; a queued retrain whose job
// Redis lost (restarted empty) is failed by the server's sweep, while one run outside the queue
// (`nerkit retrain`) is left alone; cancelling removes a job that still waits; a run whose row was
// cancelled elsewhere (as a worker sees a cancel made on the server) stops its trainer. The Redis
// part is skipped where redis-server or ioredis is missing, except under CI.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, Worker } from "bullmq";
import { CANCELLED_BY_REQUEST, RetrainService } from "../src/serve/retrain/service.js";
import { RetrainQueue } from "../src/serve/retrain/retrain-queue.js";
import { runRecordedRetrain } from "../src/serve/retrain/recorded-run.js";
import { RETRAIN_QUEUE_NAME, RetrainJob, retrainJobId } from "../src/serve/retrain/retrain-jobs.js";
import { RetrainWorker } from "../src/serve/retrain/retrain-worker.js";
import { DEFAULT_RETRAIN } from "../src/serve/retrain/run.js";
import { redisConnection } from "../src/serve/jobs/chunks.js";
import { openRepository } from "../src/serve/storage/open.js";
import { retrainStore } from "../src/serve/storage/open-retrains.js";
import { StorageUnavailableError } from "../src/serve/storage/repository.js";
import { tempDir } from "./helpers.js";
import { waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";
import { demoGold, storeReviewedDocuments, tinyRegistry, originalTraining } from "./retrain-cases.js";

/** A job database in a temp folder of its own, closed and removed after the test. */
async function repositoryInTempFolder(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = tempDir();
  const repository = await openRepository(join(dir, "jobs.db"));
  t.after(async () => {
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, repository };
}

test("a retrain queue that cannot be reached: the start fails as unavailable, the row is failed, the next start is allowed", async (t) => {
  const { dir, repository } = await repositoryInTempFolder(t);
  let enqueued = 0;
  let reachable = false;
  const service = new RetrainService({
    repository: async () => repository,
    registry: tinyRegistry(join(dir, "models"), originalTraining(dir)),
    settings: DEFAULT_RETRAIN,
    queue: {
      enqueue: async () => {
        enqueued++;
        if (!reachable) throw new Error("connect ECONNREFUSED 127.0.0.1:1");
      },
      sweep: async () => undefined,
      cancel: async () => undefined,
      close: async () => undefined,
    },
  });
  t.after(() => service.close());
  await assert.rejects(service.start(), (error: Error) => error instanceof StorageUnavailableError && /retrain r1 is recorded failed/.test(error.message));
  const r1 = await service.get("r1");
  assert.equal(r1?.status, "failed");
  assert.match(r1?.error ?? "", /the retrain queue cannot be reached: connect ECONNREFUSED/);
  reachable = true;
  const outcome = await service.start();
  assert.ok("started" in outcome && outcome.started.id === "r2", JSON.stringify(outcome));
  assert.equal(enqueued, 2);
  // Queued, not run here: the row stays running for a worker to take.
  await service.idle();
  assert.equal((await service.get("r2"))?.status, "running");
});

/** Inside a describe: a Redis started before its tests and a temp folder, both removed after them. */
function redisAndFolder(): { readonly redis: RedisServer; readonly dir: string } {
  const suite = { redis: undefined as RedisServer | undefined, dir: tempDir() };
  before(async () => {
    suite.redis = await startRedis();
  });
  after(async () => {
    await suite.redis?.stop();
    rmSync(suite.dir, { recursive: true, force: true });
  });
  return { get redis() { return suite.redis!; }, dir: suite.dir };
}

describe("a retrain whose worker died, seen by another --retrain worker", { skip: redisSkipReason() }, () => {
  const suite = redisAndFolder();
  const dir = suite.dir;

  test("BullMQ fails the stalled job and the other worker records the row failed; the retrain is not run again", async () => {
    const repository = await openRepository(join(dir, "jobs.db"));
    const connection = redisConnection(suite.redis.url);
    const queue = new Queue<RetrainJob>(RETRAIN_QUEUE_NAME, { connection });
    let dead: Worker<RetrainJob> | undefined;
    let other: RetrainWorker | undefined;
    try {
      const store = await retrainStore(repository);
      const row = (await store.start(0))!;
      await queue.add("retrain", { retrainId: row.id, settings: DEFAULT_RETRAIN }, { jobId: retrainJobId(row), attempts: 1 });
      // A worker that takes the retrain and dies: its processor never ends and its lock is never renewed again.
      let taken!: () => void;
      const took = new Promise<void>((resolve) => (taken = resolve));
      dead = new Worker<RetrainJob>(RETRAIN_QUEUE_NAME, () => (taken(), new Promise<never>(() => undefined)), { connection, lockDuration: 400, stalledInterval: 200 });
      await took;
      await dead.close(true);
      assert.equal(await queue.getJobState(retrainJobId(row)), "active");
      const lines: string[] = [];
      other = new RetrainWorker(repository, { connection, name: "other", modelsDir: join(dir, "models"), lockDurationMs: 400, stalledIntervalMs: 200, onLog: (_id, line) => lines.push(line) });
      await other.ready();
      const failed = await waitUntil(async () => {
        const r = await store.get(row.id);
        return r?.status === "running" ? undefined : r;
      }, "the row to be failed", 10_000, 50);
      assert.equal(failed?.status, "failed");
      assert.match(failed?.error ?? "", /the worker running it stopped/);
      assert.equal(await queue.getJobState(retrainJobId(row)), "failed");
      assert.deepEqual(lines, [], "the other worker did not run it again");
    } finally {
      await other?.close();
      await queue.close();
      await repository.close();
    }
  });
});

test("a run whose row was cancelled elsewhere (as a worker sees a cancel made on a server) stops its trainer; the row stays cancelled", async (t) => {
  const { dir, repository } = await repositoryInTempFolder(t);
  await storeReviewedDocuments(repository, 12);
  const store = await retrainStore(repository);
  const registry = tinyRegistry(join(dir, "models"), originalTraining(dir));
  const row = (await store.start(0, true))!;
  let trainer: number | undefined;
  const run = runRecordedRetrain(store, row.id, {
    repository,
    registry,
    settings: { ...DEFAULT_RETRAIN, holdout: 0.3, gold: demoGold, trainArgs: ["--max-steps", "100000", "--batch-size", "1", "--threads", "1"], threads: 1 },
    onTrainer: (pid) => (trainer = pid),
  });
  await waitUntil(() => trainer, "the trainer to start", 60_000);
  const cancelled = await store.cancel(row.id, CANCELLED_BY_REQUEST);
  assert.equal(cancelled?.status, "cancelled");
  const started = Date.now();
  await run;
  // Seen within a second or two, then the trainer's current step and exit.
  assert.ok(Date.now() - started < 15_000, `the run ended ${Date.now() - started} ms after the cancel`);
  assert.throws(() => process.kill(trainer!, 0), { code: "ESRCH" });
  const after = await store.get(row.id);
  assert.deepEqual([after?.status, after?.error, after?.candidate], ["cancelled", CANCELLED_BY_REQUEST, undefined]);
  assert.deepEqual((await registry.list()).map((v) => [v.id, v.status]), [["v1", "serving"]]);
});

describe("the server's sweep and cancel on a real Redis", { skip: redisSkipReason() }, () => {
  const suite = redisAndFolder();
  const dir = suite.dir;

  /** A service on `file` whose retrains go to the real queue, swept every 100 ms. */
  async function queuedService(file: string) {
    const repository = await openRepository(join(dir, file));
    const lines: string[] = [];
    const queue = new RetrainQueue(redisConnection(suite.redis.url), (line) => lines.push(line), 0);
    const service = new RetrainService({ repository: async () => repository, registry: tinyRegistry(join(dir, "models"), originalTraining(dir)), settings: DEFAULT_RETRAIN, queue, sweepEveryMs: 100 });
    const reader = new Queue<RetrainJob>(RETRAIN_QUEUE_NAME, { connection: redisConnection(suite.redis.url) });
    const close = async () => {
      await service.close();
      await reader.close();
      await repository.close();
    };
    return { repository, service, reader, lines, close, store: await retrainStore(repository) };
  }

  test("cancel removes a retrain's job that still waits; the row reads cancelled and the next start is allowed", async () => {
    const { service, reader, store, close } = await queuedService("cancel.db");
    try {
      const outcome = await service.start();
      assert.ok("started" in outcome, JSON.stringify(outcome));
      const row = outcome.started;
      assert.equal(row.queued, true);
      assert.equal(await reader.getJobState(retrainJobId(row)), "waiting");
      const cancelled = await service.cancel(row.id);
      assert.ok(cancelled && "cancelled" in cancelled && cancelled.cancelled.status === "cancelled", JSON.stringify(cancelled));
      assert.equal(await reader.getJobState(retrainJobId(row)), "unknown", "the waiting job was removed");
      assert.equal((await store.get(row.id))?.status, "cancelled");
      const again = await service.cancel(row.id);
      assert.ok(again && "finished" in again, JSON.stringify(again));
      const next = await service.start();
      assert.ok("started" in next && next.started.id === "r2", JSON.stringify(next));
    } finally {
      await close();
    }
  });

  test("regression: a queued retrain whose job Redis lost (restarted empty) is failed by the sweep; one run outside the queue is left alone", async () => {
    const { service, reader, store, close } = await queuedService("lost.db");
    try {
      // `nerkit retrain` records its own run, never on the queue: the sweep must leave it running.
      const outside = (await store.start(0, false))!;
      assert.equal(outside.queued, false);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await store.get(outside.id))?.status, "running");
      await store.finish(outside.id, { status: "failed", error: "ended for the test" }, []);

      const outcome = await service.start();
      assert.ok("started" in outcome, JSON.stringify(outcome));
      const row = outcome.started;
      assert.equal(await reader.getJobState(retrainJobId(row)), "waiting");
      await suite.redis.restart();
      assert.equal(await reader.getJobState(retrainJobId(row)), "unknown", "the new Redis does not know the job");
      const failed = await waitUntil(async () => {
        const r = await store.get(row.id);
        return r?.status === "running" ? undefined : r;
      }, "the sweep to fail the retrain", 15_000, 50);
      assert.equal(failed?.status, "failed");
      assert.match(failed?.error ?? "", /^its job is no longer on the retrain queue \(Redis was flushed or restarted without persistence, or the job was removed\)/);
      assert.match(failed?.log.at(-1) ?? "", /^failed: its job is no longer on the retrain queue/);
    } finally {
      await close();
    }
  });
});
