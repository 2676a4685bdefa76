// The queue's pieces that need no Redis: chunk ranges and ids, redis:// URLs, and processChunk on a
// SQLite repository in memory (what a worker stores, the job's status, a chunk delivered twice).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NerkitError } from "../src/errors.js";
import { processChunk } from "../src/serve/jobs/chunk-worker.js";
import { chunkId, chunksOf, redisConnection } from "../src/serve/jobs/chunks.js";
import { Annotate } from "../src/serve/jobs/runner.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";

describe("chunks", () => {
  const cases: [string, number, number, number[], [number, number][]][] = [
    ["a new job: every chunk", 10, 4, [0, 4, 8], [[0, 3], [4, 7], [8, 9]]],
    ["pending seqs in any order, repeated chunks once", 10, 4, [9, 5, 6, 8], [[4, 7], [8, 9]]],
    ["nothing pending", 10, 4, [], []],
    ["one document", 1, 16, [0], [[0, 0]]],
  ];
  for (const [name, total, size, seqs, ranges] of cases) {
    test(`chunksOf: ${name}`, () => {
      assert.deepEqual(chunksOf("j", total, size, seqs), ranges.map(([first, last]) => ({ jobId: "j", first, last })));
    });
  }

  test("chunkId is the same for the same range, has no ':' and is never an integer (BullMQ refuses both)", () => {
    const id = chunkId({ jobId: "6f1c2a3e-0000-4000-8000-000000000000", first: 16, last: 31 });
    assert.equal(id, chunkId({ jobId: "6f1c2a3e-0000-4000-8000-000000000000", first: 16, last: 31 }));
    assert.notEqual(id, chunkId({ jobId: "6f1c2a3e-0000-4000-8000-000000000000", first: 16, last: 23 }));
    assert.ok(!id.includes(":") && String(parseInt(id, 10)) !== id);
  });
});

describe("redis:// URLs", () => {
  const good: [string, object][] = [
    ["redis://127.0.0.1:6380/2", { host: "127.0.0.1", port: 6380, db: 2 }],
    ["redis://cache.internal", { host: "cache.internal", port: 6379, db: 0 }],
    ["redis://:s%40cret@h:1/3", { host: "h", port: 1, db: 3, password: "s@cret" }],
    ["redis://worker:pw@[::1]:7000", { host: "::1", port: 7000, db: 0, username: "worker", password: "pw" }],
    ["rediss://h", { host: "h", port: 6379, db: 0, tls: {} }],
  ];
  for (const [url, expected] of good) test(`accepts ${url}`, () => assert.deepEqual(redisConnection(url), expected));
  for (const url of ["http://h:6379", "redis://h/zero", "localhost:6379", ""]) {
    test(`refuses '${url}' as a usage error`, () => assert.throws(() => redisConnection(url), (e) => e instanceof NerkitError && e.code === "E_USAGE"));
  }
});

describe("processChunk", () => {
  function fakeAnnotate(seen: string[]): Annotate {
    return async (texts) => (seen.push(...texts), texts.map((t) => ({ entities: [{ type: "PER", text: t }], decision: "accept" })));
  }

  test("stores only its range, marks the job running, then done with the last chunk; a chunk delivered twice stores nothing twice", async () => {
    const repository = SqliteJobRepository.open(":memory:");
    try {
      const job = await repository.createJob(Array.from({ length: 6 }, (_, i) => ({ text: `t${i}` })));
      const seen: string[] = [];
      const annotate = fakeAnnotate(seen);
      assert.equal(await processChunk(repository, annotate, { jobId: job.id, first: 2, last: 4 }), 3);
      assert.deepEqual(seen, ["t2", "t3", "t4"]);
      assert.deepEqual(await repository.getJob(job.id), { ...job, status: "running", done: 3 });
      assert.equal(await processChunk(repository, annotate, { jobId: job.id, first: 2, last: 4 }), 0);
      assert.deepEqual(seen, ["t2", "t3", "t4"]);
      assert.equal(await processChunk(repository, annotate, { jobId: job.id, first: 0, last: 5 }), 3);
      assert.deepEqual(seen, ["t2", "t3", "t4", "t0", "t1", "t5"]);
      assert.deepEqual(await repository.getJob(job.id), { ...job, status: "done", done: 6 });
      assert.deepEqual((await repository.results(job.id, 0, 10)).map((r) => r.seq), [0, 1, 2, 3, 4, 5]);
      // A chunk of a done job reads nothing and does not make it running again.
      assert.equal(await processChunk(repository, annotate, { jobId: job.id, first: 0, last: 1 }), 0);
      assert.equal((await repository.getJob(job.id))?.status, "done");
    } finally {
      await repository.close();
    }
  });

  test("a failed job's chunks are skipped; an unknown job is an error that names --db", async () => {
    const repository = SqliteJobRepository.open(":memory:");
    try {
      const job = await repository.createJob([{ text: "a" }, { text: "b" }]);
      await repository.setStatus(job.id, "failed", "boom");
      const seen: string[] = [];
      assert.equal(await processChunk(repository, fakeAnnotate(seen), { jobId: job.id, first: 0, last: 1 }), 0);
      assert.deepEqual(seen, []);
      await assert.rejects(processChunk(repository, fakeAnnotate(seen), { jobId: "nope", first: 0, last: 1 }), /no job nope.*--db/);
    } finally {
      await repository.close();
    }
  });

  test("pendingDocuments with a range: both ends included, done documents left out", async () => {
    const repository = SqliteJobRepository.open(":memory:");
    try {
      const job = await repository.createJob(Array.from({ length: 5 }, (_, i) => ({ text: `t${i}` })));
      await repository.saveResults(job.id, [{ seq: 2, entities: [], decision: "accept" }]);
      assert.deepEqual(await repository.pendingDocuments(job.id, { first: 1, last: 3 }), [{ seq: 1, text: "t1" }, { seq: 3, text: "t3" }]);
      assert.deepEqual((await repository.pendingDocuments(job.id)).map((d) => d.seq), [0, 1, 3, 4]);
    } finally {
      await repository.close();
    }
  });
});
