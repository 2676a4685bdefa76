// Scale-out on a real Redis: the server (in process, `queue` set) stores a job and puts its chunks on
// the BullMQ queue; a restart puts back chunks Redis lost without doubling the ones it kept; two
// real `nerkit worker` processes with the tiny BERT annotate it, one is SIGKILLed mid-job, and the
// job still finishes with one result per document, equal to what annotating in process gives.
// The chunk lock is shortened (hidden --lock-duration-ms) so the killed worker's chunk is taken
// again within seconds. A chunk that keeps failing marks its job failed after BullMQ's last attempt.
// Skipped where redis-server or ioredis is missing, except under CI (redis-server.ts).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { Queue } from "bullmq";
import { FastifyInstance } from "fastify";
import { loadPipeline } from "../src/infer/pipeline.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { annotator } from "../src/serve/jobs/annotate.js";
import { readTexts } from "../src/serve/reading.js";
import { ChunkWorker } from "../src/serve/jobs/chunk-worker.js";
import { Chunk, QUEUE_NAME, chunkId, redisConnection } from "../src/serve/jobs/chunks.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { fixturesDir, tempDir } from "./helpers.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
const CHUNK = 8;
// The tiny model's random weights score entities between about 0.11 and 0.16: these thresholds give
// documents of both decisions, so the comparison below sees routing too.
const thresholds = { accept: 0.145, review: 0.14 };

const people = ["Angela Merkel", "Maria Lindqvist", "Barack Obama", "Kofi Annan", "Ada Lovelace", "Jean Dupont"];
const places = ["Paris", "Geneva", "Nairobi", "Stockholm", "Lima", "Osaka", "Toronto"];
const orgs = ["the United Nations", "Nordhavn Logistics", "the Red Cross", "Siemens", "the World Bank"];
const texts = Array.from({ length: 480 }, (_, i) => `${people[i % 6]} met ${people[(i * 5 + 1) % 6]} in ${places[i % 7]} on behalf of ${orgs[i % 5]}, report ${i}.`);

/** The server annotates nothing when its jobs go to a queue. */
const noModel: PipelineLike = {
  run: async () => {
    throw new Error("a server with a queue does not annotate jobs");
  },
  close: async () => {},
};

describe("serve --queue and nerkit worker processes", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  let queue: Queue<Chunk>;
  const dir = tempDir("nerkit-queue-");
  const file = join(dir, "jobs.db");
  const workers: NerkitProcess[] = [];
  const apps: FastifyInstance[] = [];

  before(async () => {
    redis = await startRedis();
    queue = new Queue<Chunk>(QUEUE_NAME, { connection: redisConnection(redis.url) });
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    for (const app of apps) await app.close();
    await queue?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(): Promise<FastifyInstance> {
    const app = await buildApp({ pipeline: noModel, config: { db: file, queue: redis.url, maxBatch: CHUNK, ...thresholds } });
    apps.push(app);
    return app;
  }

  async function queued(): Promise<number> {
    const counts = await queue.getJobCounts("waiting", "prioritized", "delayed", "active");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  function worker(): NerkitProcess {
    const args = ["worker", "--model", tinyDir, "--db", file, "--queue", redis.url, "--threads", "1"];
    // The workers keep their default thresholds: each chunk carries the server's, which win.
    const w = spawnNerkit([...args, "--lock-duration-ms", "2000", "--stalled-interval-ms", "500"]);
    workers.push(w);
    return w;
  }

  test("a job survives a server restart that lost chunks and a worker SIGKILLed mid-job; each document stored once, as annotated in process", async () => {
    const chunks = texts.length / CHUNK;
    // Paused until both workers are up, so that both take part and the one killed holds a chunk.
    await queue.pause();
    const first = await server();
    const created = await first.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.statusCode, 202, created.body);
    const { id, total } = created.json() as { id: string; total: number };
    assert.equal(total, texts.length);
    assert.equal(await queued(), chunks);

    // Redis loses some chunks; the restarted server puts back exactly those.
    for (let k = 0; k < 10; k++) await queue.remove(chunkId({ jobId: id, first: k * 3 * CHUNK, last: k * 3 * CHUNK + CHUNK - 1 }));
    assert.equal(await queued(), chunks - 10);
    await first.close();
    const second = await server();
    await waitUntil(async () => ((await queued()) === chunks ? true : undefined), "the restarted server to queue the lost chunks again", 10_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await queued(), chunks, "a restart must not add a chunk twice");

    const [victim, survivor] = [worker(), worker()];
    const [victimName] = await Promise.all([victim.waitFor(/worker (\S+) ready/).then((m) => m[1]), survivor.waitFor(/worker \S+ ready/)]);
    const db = new Database(file, { readonly: true });
    try {
      const progress = () => db.prepare("SELECT status, done_count AS done, total FROM jobs WHERE id = ?").get(id) as { status: string; done: number; total: number };
      await queue.resume();
      const atKill = await waitUntil(() => (progress().done >= 5 * CHUNK ? progress() : undefined), "some results to be stored", 20_000, 5);
      victim.child.kill("SIGKILL");
      assert.ok(atKill.done < total, `the job finished before a worker could be killed (${atKill.done} of ${total})`);
      assert.equal(atKill.status, "running");
      assert.equal(await victim.exited, null);
      // The dead worker's chunk stays active until its lock expires; the job can only finish if it is taken again.
      const orphans = (await queue.getActive()).filter((chunk) => chunk.processedBy === victimName);
      assert.equal(orphans.length, 1, `the killed worker held ${orphans.length} chunks`);

      const done = await waitUntil(() => (progress().status !== "running" ? progress() : undefined), "the job to finish", 25_000, 50);
      assert.deepEqual(done, { status: "done", done: total, total }, survivor.stderr());
      const counts = db.prepare("SELECT seq, COUNT(*) AS n FROM results WHERE job_id = ? GROUP BY seq ORDER BY seq").all(id) as { seq: number; n: number }[];
      assert.deepEqual(counts, texts.map((_, seq) => ({ seq, n: 1 })));
      assert.equal((db.prepare("SELECT COUNT(*) AS n FROM documents WHERE job_id = ? AND status = 'pending'").get(id) as { n: number }).n, 0);

      // Through the API, in document order, equal to the same chunks annotated in this process.
      const page = await second.inject(`/v1/jobs/${id}/results?limit=${total}`);
      const rows = page.body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { seq: number; id: string; text: string; entities: unknown[]; decision: string });
      const pipeline = await loadPipeline(tinyDir, { threads: 1 });
      try {
        const annotate = annotator((batch) => readTexts(pipeline, batch), thresholds);
        const expected = [];
        for (let i = 0; i < texts.length; i += CHUNK) expected.push(...(await annotate(texts.slice(i, i + CHUNK))));
        assert.deepEqual(rows.map((r) => r.id), texts.map((_, i) => `d${i}`));
        assert.deepEqual(rows.map((r) => ({ entities: r.entities, decision: r.decision })), expected);
        assert.deepEqual(new Set(rows.map((r) => r.decision)), new Set(["accept", "review"]));
      } finally {
        await pipeline.close();
      }
    } finally {
      db.close();
    }

    // SIGTERM: the surviving worker finishes what it holds and exits cleanly.
    survivor.child.kill("SIGTERM");
    assert.equal(await survivor.exited, 0, survivor.stderr());
    assert.match(survivor.stderr(), /SIGTERM: finishing the chunks in progress/);
  });

  test("a chunk that fails every attempt is retried, then marks its job failed with the error", async () => {
    const repository = SqliteJobRepository.open(join(dir, "failing.db"));
    const failures: boolean[] = [];
    const worker = new ChunkWorker(repository, () => async () => Promise.reject(new Error("the model exploded")), {
      connection: redisConnection(redis.url),
      concurrency: 1,
      onFailure: (_chunk, _error, final) => failures.push(final),
    });
    try {
      const job = await repository.createJob([{ text: "a" }, { text: "b" }]);
      const chunk = { jobId: job.id, first: 0, last: 1 };
      // The server's policy with a short backoff, so the test does not wait for it.
      await queue.add("chunk", chunk, { jobId: chunkId(chunk), attempts: 3, backoff: { type: "fixed", delay: 50 }, removeOnComplete: true });
      const failed = await waitUntil(async () => ((await repository.getJob(job.id))?.status === "failed" ? repository.getJob(job.id) : undefined), "the job to be marked failed", 10_000, 20);
      assert.deepEqual(failed, { ...job, status: "failed", error: "the model exploded" });
      assert.deepEqual(failures, [false, false, true]);
      assert.equal((await queue.getJob(chunkId(chunk)))?.failedReason, "the model exploded");
    } finally {
      await worker.close();
      await repository.close();
    }
  });
});
