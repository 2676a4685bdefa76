// The service while another process holds the SQLite database's write lock (sqlite-locker.ts): the
// event loop stays free (/healthz answers at once while a job write waits for the lock; it used to
// wait on the main thread for the whole busy timeout), job writes answer 503 with Retry-After, and
// a job whose run stopped on the lock is picked up by the sweep once the lock goes (each document
// stored once; nothing annotated while the database stays locked), or, when its annotation failed
// and the failure could not be stored, is marked failed then, without being annotated again.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { FakePipeline } from "./fake-pipeline.js";
import { tempDir } from "./helpers.js";
import { waitUntil } from "./processes.js";
import { SqliteLock, lockSqlite } from "./sqlite-locker.js";
import { JobStatus, jobStatus, postJob, sqliteResultCounts, submitJob } from "./job-routes.js";

const dir = tempDir("nerkit-sqlite-lock-");
after(() => rmSync(dir, { recursive: true, force: true }));


async function createdDatabase(name: string): Promise<string> {
  const file = join(dir, name);
  await SqliteJobRepository.open(file).close();
  return file;
}





const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job's status once GET /v1/jobs/:id says why it stands still. */
function untilWaiting(app: FastifyInstance, id: string): Promise<JobStatus> {
  return waitUntil(async () => {
    const s = await jobStatus(app, id);
    return s.waiting ? s : undefined;
  }, "the job to say why it stands still", 10_000);
}

describe("a SQLite database locked by another process", () => {
  test("/healthz answers within 500 ms while a job write waits 2 s for the lock; the write is 503 with Retry-After; work resumes once the lock goes", async () => {
    const file = await createdDatabase("healthz.db");
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: file, dbBusyTimeoutMs: 2000 } });
    try {
      const { id: earlier } = await submitJob(app, ["Alice met Bob"]);
      await waitUntil(async () => ((await jobStatus(app, earlier)).status === "done" ? true : undefined), "the first job to finish");

      const lock = await lockSqlite(file);
      let released = false;
      try {
        const started = Date.now();
        const posting = postJob(app, ["Carol met Dave"]);
        // Each probe is late by however long the event loop was blocked since it was planned,
        // whether during the pause before it or during the request itself.
        let slowest = 0;
        for (let i = 0; i < 10; i++) {
          const planned = Date.now() + 50;
          await sleep(50);
          const health = await app.inject("/healthz");
          slowest = Math.max(slowest, Date.now() - planned);
          assert.equal(health.statusCode, 200);
        }
        // Reads do not wait for a writer (WAL): a job's progress is still there.
        assert.equal((await jobStatus(app, earlier)).status, "done");
        const refused = await posting;
        const waited = Date.now() - started;
        assert.ok(slowest < 500, `/healthz took ${slowest} ms while the database was locked`);
        // The fault was real: the write waited for the lock for the whole busy timeout, then gave up.
        assert.equal(refused.statusCode, 503, refused.body);
        assert.equal(refused.headers["retry-after"], "1");
        assert.match(refused.body, /E_STORAGE_UNAVAILABLE.*SQLITE_BUSY/);
        assert.ok(waited >= 1900, `the write gave up after ${waited} ms, before its 2000 ms busy timeout`);
        await lock.release();
        released = true;
      } finally {
        if (!released) await lock.release();
      }
      const { id } = await submitJob(app, ["Carol met Dave"]);
      const done = await waitUntil(async () => ((await jobStatus(app, id)).status === "done" ? jobStatus(app, id) : undefined), "the job after the lock to finish");
      assert.deepEqual(done, { id, status: "done", total: 1, done: 1 });
    } finally {
      await app.close();
    }
  });

  test("a job whose results could not be stored stays running with a reason, annotates nothing while locked, and is finished by the sweep once the lock goes", async () => {
    const file = await createdDatabase("sweep.db");
    const fake = new FakePipeline();
    let lock: Promise<SqliteLock> | undefined;
    // The third chunk's texts come back only once another process holds the lock, so its results find the database locked.
    const gated: PipelineLike = {
      run: async (texts) => {
        if (fake.texts.length >= 4) await (lock ??= lockSqlite(file));
        return fake.run(texts);
      },
      close: async () => {},
    };
    const app = await buildApp({ pipeline: gated, config: { db: file, maxBatch: 2, dbBusyTimeoutMs: 200, sweepIntervalMs: 100 } });
    const texts = Array.from({ length: 16 }, (_, i) => `Person${"abcdefghijklmnop"[i]} works here`);
    let released = false;
    try {
      const { id } = await submitJob(app, texts);
      const stalled = await untilWaiting(app, id);
      assert.equal(stalled.status, "running");
      assert.ok(stalled.done < texts.length, `the job finished before the lock (${stalled.done})`);
      assert.match(stalled.waiting!.reason, /SQLITE_BUSY.*retrying/);
      assert.ok(Math.abs(Date.parse(stalled.waiting!.since) - Date.now()) < 10_000);
      // Several sweeps run while locked; each stops at its first write, before annotating anything.
      const annotated = fake.texts.length;
      await sleep(800);
      assert.equal(fake.texts.length, annotated, "texts were annotated while the database was locked");
      assert.equal((await jobStatus(app, id)).status, "running");
      await (await lock!).release();
      released = true;
      const done = await waitUntil(async () => ((await jobStatus(app, id)).status === "done" ? jobStatus(app, id) : undefined), "the sweep to finish the job", 10_000);
      assert.deepEqual(done, { id, status: "done", total: texts.length, done: texts.length });
    } finally {
      if (lock && !released) await (await lock).release();
      await app.close();
    }
    assert.deepEqual(sqliteResultCounts(file), texts.map((_, seq) => ({ seq, n: 1 })));
  });

  test("an annotation failure that could not be stored while locked is stored by the sweep once the lock goes; the job is not annotated again", async () => {
    const file = await createdDatabase("failing.db");
    let calls = 0;
    let lockTaken: Promise<SqliteLock> | undefined;
    const exploding: PipelineLike = {
      run: async () => {
        calls++;
        // The lock is taken before the error comes back, so storing the failure finds the database locked.
        lockTaken ??= lockSqlite(file);
        await lockTaken;
        throw new Error("the model exploded");
      },
      close: async () => {},
    };
    const app = await buildApp({ pipeline: exploding, config: { db: file, dbBusyTimeoutMs: 200, sweepIntervalMs: 100 } });
    try {
      const { id } = await submitJob(app, ["Alice met Bob", "Carol met Dave"]);
      const stalled = await untilWaiting(app, id);
      assert.equal(stalled.status, "running");
      assert.match(stalled.waiting!.reason, /the job failed \(the model exploded\) but the failure could not be stored: .*SQLITE_BUSY/);
      await sleep(500);
      assert.equal((await jobStatus(app, id)).status, "running");
      await (await lockTaken!).release();
      const failed = await waitUntil(async () => ((await jobStatus(app, id)).status === "failed" ? jobStatus(app, id) : undefined), "the sweep to store the failure", 10_000);
      assert.deepEqual(failed, { id, status: "failed", total: 2, done: 0, error: "the model exploded" });
      assert.equal(calls, 1, "the failed job was annotated again");
    } finally {
      await app.close();
    }
  });
});
