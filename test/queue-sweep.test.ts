// The sweep of `serve --queue` (queue-dispatcher.ts) under real faults, on a real Redis:
// - Redis killed mid-job and started again empty (no persistence): the sweep adds the lost chunks
//   again and the job finishes with each document stored once;
// - a job no worker has taken says so in GET /v1/jobs/:id; a `nerkit worker` SIGKILLed while it held
//   a chunk, with no other worker, leaves the job saying that no worker is connected; a worker that
//   connects later takes the dead one's chunk again and the job finishes, each document once;
// - a chunk whose last attempt failed while its worker could not mark the job failed (the database
//   was locked by another process at that moment): the sweep marks the job failed with the chunk's
//   error once the database can be written.
// Skipped where redis-server or ioredis is missing, except under CI (redis-server.ts).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { FastifyInstance } from "fastify";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { ChunkWorker } from "../src/serve/jobs/chunk-worker.js";
import { Chunk, QUEUE_NAME, redisConnection } from "../src/serve/jobs/chunks.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { fixturesDir, tempDir } from "./helpers.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";
import { SqliteLock, lockSqlite } from "./sqlite-locker.js";
import { jobStatus, sqliteResultCounts, submitJob } from "./job-routes.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
const CHUNK = 8;
const SWEEP_MS = 200;

/** The server annotates nothing when its jobs go to a queue. */
const noModel: PipelineLike = {
  run: async () => {
    throw new Error("a server with a queue does not annotate jobs");
  },
  close: async () => {},
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the sweep of serve --queue under faults", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  let queue: Queue<Chunk>;
  const dir = tempDir("nerkit-queue-sweep-");
  const workers: NerkitProcess[] = [];
  const apps: FastifyInstance[] = [];

  before(async () => {
    redis = await startRedis();
    queue = new Queue<Chunk>(QUEUE_NAME, { connection: redisConnection(redis.url) });
    queue.on("error", () => undefined);
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    for (const app of apps) await app.close();
    await queue?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(file: string, config: { dbBusyTimeoutMs?: number } = {}): Promise<FastifyInstance> {
    const app = await buildApp({ pipeline: noModel, config: { db: file, queue: redis.url, maxBatch: CHUNK, sweepIntervalMs: SWEEP_MS, ...config } });
    apps.push(app);
    return app;
  }




  test("Redis restarted empty mid-job: the sweep adds the lost chunks again; each document stored once", async () => {
    const file = join(dir, "restart.db");
    const app = await server(file);
    const repository = SqliteJobRepository.open(file);
    const worker = new ChunkWorker(
      repository,
      () => async (texts) => {
        await sleep(20);
        return texts.map(() => ({ entities: [], decision: "accept" }));
      },
      { connection: redisConnection(redis.url), concurrency: 1 },
    );
    try {
      await worker.ready();
      const texts = Array.from({ length: 30 * CHUNK }, (_, i) => `Text ${i}`);
      const { id } = await submitJob(app, texts);
      await waitUntil(async () => ((await jobStatus(app, id)).done >= 5 * CHUNK ? true : undefined), "some results to be stored", 20_000, 5);
      const before = redis.pid();
      await redis.restart();
      const atRestart = await jobStatus(app, id);
      assert.notEqual(redis.pid(), before);
      assert.ok(atRestart.done < texts.length, `the job finished before Redis was restarted (${atRestart.done})`);
      const done = await waitUntil(async () => ((await jobStatus(app, id)).status !== "running" ? jobStatus(app, id) : undefined), "the job to finish after the restart", 20_000, 50);
      assert.deepEqual(done, { id, status: "done", total: texts.length, done: texts.length });
      assert.deepEqual(sqliteResultCounts(file, id), texts.map((_, seq) => ({ seq, n: 1 })));
    } finally {
      await worker.close();
      await repository.close();
    }
  });

  test("no worker: the job says so; a worker SIGKILLed holding a chunk: the job says no worker is connected, and finishes once one connects", async () => {
    const file = join(dir, "killed.db");
    const app = await server(file);
    const texts = Array.from({ length: 30 * CHUNK }, (_, i) => `Angela Merkel met Kofi Annan in Geneva, report ${i}.`);
    const { id } = await submitJob(app, texts);
    const untaken = await waitUntil(async () => {
      const s = await jobStatus(app, id);
      return s.waiting ? s : undefined;
    }, "the job to say no worker took it", 10_000);
    assert.equal(untaken.status, "queued");
    assert.equal(untaken.waiting!.reason, "no worker has taken the job: none is connected to the queue");

    const worker = () => {
      const w = spawnNerkit(["worker", "--model", tinyDir, "--db", file, "--queue", redis.url, "--threads", "1", "--lock-duration-ms", "2000", "--stalled-interval-ms", "500"]);
      workers.push(w);
      return w;
    };
    const victim = worker();
    const victimName = (await victim.waitFor(/worker (\S+) ready/))[1];
    const atKill = await waitUntil(async () => {
      const s = await jobStatus(app, id);
      return s.done >= 4 * CHUNK ? s : undefined;
    }, "some results to be stored", 30_000, 5);
    victim.child.kill("SIGKILL");
    assert.equal(await victim.exited, null);
    assert.ok(atKill.done < texts.length, `the job finished before the worker was killed (${atKill.done})`);
    const orphans = (await queue.getActive()).filter((chunk) => chunk.processedBy === victimName);
    assert.equal(orphans.length, 1, `the killed worker held ${orphans.length} chunks`);

    const stalled = await waitUntil(async () => {
      const s = await jobStatus(app, id);
      return s.waiting?.reason === "no worker is connected to the queue" ? s : undefined;
    }, "the job to say no worker is connected", 10_000);
    assert.equal(stalled.status, "running");
    assert.ok(stalled.done < texts.length);

    const rescuer = worker();
    await rescuer.waitFor(/worker \S+ ready/);
    const done = await waitUntil(async () => ((await jobStatus(app, id)).status !== "running" ? jobStatus(app, id) : undefined), "the job to finish", 30_000, 50);
    assert.deepEqual(done, { id, status: "done", total: texts.length, done: texts.length }, rescuer.stderr());
    assert.deepEqual(sqliteResultCounts(file, id), texts.map((_, seq) => ({ seq, n: 1 })));
    rescuer.child.kill("SIGTERM");
    assert.equal(await rescuer.exited, 0, rescuer.stderr());
  });

  test("a chunk failed for good while its worker could not mark the job failed: the sweep marks it failed once the database can be written", async () => {
    const file = join(dir, "failing.db");
    const app = await server(file, { dbBusyTimeoutMs: 200 });
    const repository = SqliteJobRepository.open(file, { busyTimeoutMs: 100 });
    let lock: Promise<SqliteLock> | undefined;
    const finals: string[] = [];
    const worker = new ChunkWorker(
      repository,
      () => async () => {
        // From the first attempt on, another process holds the database's lock.
        lock ??= lockSqlite(file);
        await lock;
        throw new Error("the model exploded");
      },
      { connection: redisConnection(redis.url), concurrency: 1, onFailure: (_chunk, error, final) => final && finals.push(error.message) },
    );
    let released = false;
    try {
      await worker.ready();
      const { id } = await submitJob(app, ["Alice met Bob", "Carol met Dave"]);
      // BullMQ's three attempts (1 s and 2 s apart); the last one cannot mark the job failed.
      await waitUntil(() => (finals.length > 0 ? true : undefined), "the chunk's last attempt to fail", 15_000, 20);
      assert.match(finals[0], /^the model exploded; marking the job failed failed too: .*SQLITE_BUSY/);
      await sleep(3 * SWEEP_MS);
      assert.equal((await jobStatus(app, id)).status, "running");
      await (await lock!).release();
      released = true;
      const failed = await waitUntil(async () => ((await jobStatus(app, id)).status === "failed" ? jobStatus(app, id) : undefined), "the sweep to mark the job failed", 10_000, 20);
      assert.deepEqual(failed, { id, status: "failed", total: 2, done: 0, error: "the model exploded" });
    } finally {
      if (lock && !released) await (await lock).release();
      await worker.close();
      await repository.close();
    }
  });
});
