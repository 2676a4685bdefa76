// The retrain queue's failure paths, in process (the happy path and the server's sweep of a killed
// worker run on real processes: retrain-worker-processes.test.ts): a queue that cannot be reached
// fails the retrain it was to take (503 for the caller, the row failed, the next start allowed);
// a retrain whose worker died while another `--retrain` worker is connected is failed by that
// worker's stalled check (BullMQ's maxStalledCount 0), not run again. The Redis part is skipped
// where redis-server or ioredis is missing, except under CI.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, Worker } from "bullmq";
import { RetrainService } from "../src/serve/retrain/service.js";
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
import { tinyRegistry, originalTraining } from "./retrain-cases.js";

test("a retrain queue that cannot be reached: the start fails as unavailable, the row is failed, the next start is allowed", async (t) => {
  const dir = tempDir();
  const repository = await openRepository(join(dir, "jobs.db"));
  t.after(async () => {
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });
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

describe("a retrain whose worker died, seen by another --retrain worker", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  const dir = tempDir();
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("BullMQ fails the stalled job and the other worker records the row failed; the retrain is not run again", async () => {
    const repository = await openRepository(join(dir, "jobs.db"));
    const connection = redisConnection(redis.url);
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
