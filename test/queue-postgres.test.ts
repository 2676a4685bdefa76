// Workers on several machines share one PostgreSQL: here two real `nerkit worker` processes with the
// tiny BERT take the chunks of one job from Redis and store into one PostgreSQL database at once;
// the job finishes with exactly one result per document, each as annotating in process gives.
// Skipped where PostgreSQL, redis-server or ioredis is missing, except under CI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { loadPipeline } from "../src/infer/pipeline.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { annotator } from "../src/serve/jobs/annotate.js";
import { readTexts } from "../src/serve/reading.js";
import { JobRepository } from "../src/serve/storage/repository.js";
import { openRepository } from "../src/serve/storage/open.js";
import { tinyModelDir } from "./model-cases.js";
import { TestDatabase, postgresSkipReason, testPostgres } from "./postgres-server.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const CHUNK = 8;
const routing = { accept: 0.145, review: 0.14 };
const texts = Array.from({ length: 160 }, (_, i) => `Report ${i}: Maria Lindqvist of Nordhavn Logistics flew from Lima to Osaka with ${i % 7} colleagues.`);

const noModel: PipelineLike = {
  run: async () => {
    throw new Error("a server with a queue does not annotate jobs");
  },
  close: async () => {},
};

const skip = redisSkipReason() || (await postgresSkipReason()) || false;

describe("two worker processes on one PostgreSQL database", { skip }, () => {
  let redis: RedisServer;
  let database: TestDatabase;
  let app: FastifyInstance;
  let repository: JobRepository;
  const workers: NerkitProcess[] = [];

  before(async () => {
    redis = await startRedis();
    database = (await testPostgres())!;
    app = await buildApp({ pipeline: noModel, config: { db: database.url, queue: redis.url, maxBatch: CHUNK, ...routing } });
    repository = await openRepository(database.url);
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await app?.close();
    await repository?.close();
    await database?.drop();
    await redis?.stop();
  });

  test("both workers serve one job at once; each document stored once, as annotated in process", async () => {
    for (let i = 0; i < 2; i++) workers.push(spawnNerkit(["worker", "--model", tinyModelDir("bert"), "--db", database.url, "--queue", redis.url, "--threads", "1"]));
    await Promise.all(workers.map((w) => w.waitFor(/worker \S+ ready/)));
    const created = await app.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json() as { id: string };
    const done = await waitUntil(async () => {
      const job = await repository.getJob(id);
      return job && job.status !== "queued" && job.status !== "running" ? job : undefined;
    }, "the job to finish", 30_000, 50);
    assert.deepEqual({ status: done.status, done: done.done, total: done.total }, { status: "done", done: texts.length, total: texts.length });
    const stored = await repository.results(id, 0, texts.length + 1);
    assert.deepEqual(stored.map((r) => r.seq), texts.map((_, seq) => seq));

    const pipeline = await loadPipeline(tinyModelDir("bert"), { threads: 1 });
    try {
      const annotate = annotator((batch) => readTexts(pipeline, batch), routing);
      const expected = [];
      for (let i = 0; i < texts.length; i += CHUNK) expected.push(...(await annotate(texts.slice(i, i + CHUNK))));
      assert.deepEqual(stored.map((r) => ({ entities: r.entities, decision: r.decision })), expected);
    } finally {
      await pipeline.close();
    }
  });
});
