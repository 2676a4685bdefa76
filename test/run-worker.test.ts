// runWorker, the one function `nerkit worker` calls: bad options are usage errors raised before the
// model loads; on a real Redis it annotates a queued job as the server reads texts (the whole text,
// aggregation first: a document twenty windows long gets the library's whole-text entities), reports
// that it is ready, and returns once `stop` resolves, with the model and the database released.
// The Redis part is skipped where redis-server or ioredis is missing, except under CI (redis-server.ts).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_READING, Entity, NerPipeline, loadPipeline } from "../src/infer/pipeline.js";
import { NerkitError } from "../src/errors.js";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { runWorker } from "../src/serve/worker.js";
import { readScoredTexts } from "../src/serve/reading.js";
import { openRepository } from "../src/serve/storage/open.js";
import { tempDir } from "./helpers.js";
import { fixturesDir } from "./helpers.js";
import { waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
const neverLoaded = async (): Promise<PipelineLike> => {
  throw new Error("the model must not load when the options are bad");
};
const options = { queue: "redis://127.0.0.1:1/0", db: ":memory:", loadPipeline: neverLoaded, concurrency: 1, routing: {}, stop: Promise.resolve() };
const usage = (pattern: RegExp) => (error: unknown) => error instanceof NerkitError && error.code === "E_USAGE" && pattern.test(error.message);

test("runWorker: bad options are usage errors, raised before the model loads", async () => {
  await assert.rejects(runWorker({ ...options, queue: "http://localhost" }), usage(/--queue expects a URL such as redis:/));
  await assert.rejects(runWorker({ ...options, concurrency: 0 }), usage(/--concurrency must be at least 1, got 0/));
  await assert.rejects(runWorker({ ...options, routing: { accept: 0.5, review: 0.7 } }), usage(/must not exceed/));
  await assert.rejects(runWorker({ ...options, db: ":memory:" }), usage(/--db :memory: holds no job of the server's/));
  const missingFolder = join(tempDir(), "missing", "jobs.db");
  // An unreachable PostgreSQL: the error names the server, never the password (port 1: nothing listens there).
  await assert.rejects(runWorker({ ...options, db: "postgres://nerkit:never-shown@127.0.0.1:1/nerkit" }), (e) => e instanceof NerkitError && e.code === "E_IO" && /ECONNREFUSED/.test(e.describe()) && !e.describe().includes("never-shown"));
  await assert.rejects(runWorker({ ...options, db: missingFolder }), (e) => e instanceof NerkitError && e.code === "E_IO" && /--db .*missing\/jobs\.db: cannot create the job database: the folder .* does not exist/.test(e.message));
});

describe("runWorker on a real Redis", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  let pipeline: NerPipeline;
  const dir = tempDir("nerkit-run-worker-");
  before(async () => {
    redis = await startRedis();
    pipeline = await loadPipeline(tinyDir, { threads: 1 });
  });
  after(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("annotates a queued job whole, reports ready, and returns once stopped, the model closed", async () => {
    const file = join(dir, "jobs.db");
    const noModel: PipelineLike = { run: async () => Promise.reject(new Error("a server with a queue annotates nothing")), close: async () => {} };
    const server = await buildApp({ pipeline: noModel, config: { db: file, queue: redis.url, accept: 0.13, review: 0 } });
    try {
      const text = Array.from({ length: 24 }, (_, i) => `Dario Wu met Angela Lindqvist in Zürich on day ${i}.`).join(" ");
      const created = await server.inject({ method: "POST", url: "/v1/jobs", payload: JSON.stringify({ text }) + "\n", headers: { "content-type": "application/x-ndjson" } });
      assert.equal(created.statusCode, 202, created.body);
      const { id } = created.json() as { id: string };

      let stop!: () => void;
      let closed = false;
      let ready: string | undefined;
      const running = runWorker({
        queue: redis.url,
        db: file,
        loadPipeline: async () => ({ run: (texts, o) => pipeline.run(texts, o), close: async () => void (closed = true) }),
        concurrency: 1,
        routing: {},
        stop: new Promise<void>((resolve) => (stop = resolve)),
        onReady: ({ name }) => (ready = name),
      });
      const status = async () => (await server.inject(`/v1/jobs/${id}`)).json() as { status: string };
      await waitUntil(async () => ((await status()).status === "done" ? true : undefined), "the worker to finish the job", 20_000, 20);
      assert.match(ready ?? "", /:\d+$/);
      stop();
      await running;
      assert.ok(closed, "the model is released");

      const [row] = (await server.inject(`/v1/jobs/${id}/results`)).body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { entities: (Entity & { decision: string })[] });
      const [whole] = (await pipeline.run([text], DEFAULT_READING)) as Entity[][];
      assert.ok(whole.some((e) => e.start > text.length - 100), "the library finds entities at the end");
      assert.deepEqual(
        row.entities.map(({ decision: _d, ...e }) => e),
        whole.map(({ word: _w, ...e }) => e),
      );
      // The worker stores the document's informativeness from the same run, as the server does.
      const [scored] = await readScoredTexts(pipeline, [text]);
      const repository = await openRepository(file);
      try {
        assert.equal((await repository.result(id, 0))?.informativeness, scored.informativeness);
      } finally {
        await repository.close();
      }
    } finally {
      await server.close();
      await pipeline.close();
    }
  });
});
