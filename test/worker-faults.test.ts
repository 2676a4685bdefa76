// `nerkit worker` under faults, as real processes on a real Redis: a worker started before the
// server's first job creates the SQLite job database and annotates the job once it comes; a worker
// whose Redis was shut down cleanly (SHUTDOWN NOSAVE) logs the lost connection and still exits
// promptly on SIGTERM. The rate limit of those error lines is tested alone, on a fake clock.
// The Redis part is skipped where redis-server or ioredis is missing, except under CI (redis-server.ts).

import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { FastifyInstance } from "fastify";
import { PipelineLike, buildApp } from "../src/serve/app.js";
import { RateLimitedLog } from "../src/serve/jobs/rate-limited-log.js";
import { fixturesDir, tempDir } from "./helpers.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");

/** The server annotates nothing when its jobs go to a queue. */
const noModel: PipelineLike = {
  run: async () => Promise.reject(new Error("a server with a queue does not annotate jobs")),
  close: async () => {},
};

test("RateLimitedLog: the first error at once, then at most one line per interval saying how many were left out", () => {
  let now = 1_000;
  const lines: string[] = [];
  const log = new RateLimitedLog((line) => lines.push(line), 10_000, () => now);
  log.report("ECONNREFUSED 1");
  assert.deepEqual(lines, ["ECONNREFUSED 1"]);
  for (let i = 2; i <= 5; i++) {
    now += 2_000; // 3,000 ... 9,000: within the interval
    log.report(`ECONNREFUSED ${i}`);
  }
  assert.deepEqual(lines, ["ECONNREFUSED 1"]);
  now = 11_000; // 10 s after the first line
  log.report("ECONNREFUSED 6");
  assert.deepEqual(lines, ["ECONNREFUSED 1", "ECONNREFUSED 6 (4 more error(s) left out since the last line)"]);
  now = 11_001;
  log.report("ECONNREFUSED 7");
  log.flush();
  assert.deepEqual(lines.slice(2), ["1 more error(s) left out since the last line, the last: ECONNREFUSED 7"]);
  log.flush();
  assert.equal(lines.length, 3, "nothing left to flush");
  now = 30_000;
  log.report("ECONNRESET");
  assert.equal(lines[3], "ECONNRESET", "the count was flushed already");
});

describe("nerkit worker processes and Redis faults", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  const dir = tempDir("nerkit-worker-faults-");
  const workers: NerkitProcess[] = [];
  const apps: FastifyInstance[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    for (const app of apps) await app.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function worker(file: string, url: string): NerkitProcess {
    const w = spawnNerkit(["worker", "--model", tinyDir, "--db", file, "--queue", url, "--threads", "1"]);
    workers.push(w);
    return w;
  }

  test("a worker started before the first job creates the SQLite database and annotates the job once it comes", async () => {
    const file = join(dir, "first.db");
    assert.ok(!existsSync(file));
    const w = worker(file, redis.url);
    await w.waitFor(/did not exist: created an empty job database/);
    await w.waitFor(/worker \S+ ready/);
    assert.ok(existsSync(file), "the worker created the database");

    const app = await buildApp({ pipeline: noModel, config: { db: file, queue: redis.url, maxBatch: 4 } });
    apps.push(app);
    const texts = Array.from({ length: 10 }, (_, i) => `Angela Merkel met Kofi Annan in Geneva, report ${i}.`);
    const created = await app.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json() as { id: string };
    const status = async () => (await app.inject(`/v1/jobs/${id}`)).json() as { status: string; done: number };
    const done = await waitUntil(async () => ((await status()).status === "done" ? status() : undefined), "the worker to finish the job", 20_000, 50);
    assert.equal(done.done, texts.length, w.stderr());
    const db = new Database(file, { readonly: true });
    try {
      const counts = db.prepare("SELECT seq, COUNT(*) AS n FROM results WHERE job_id = ? GROUP BY seq ORDER BY seq").all(id);
      assert.deepEqual(counts, texts.map((_, seq) => ({ seq, n: 1 })));
    } finally {
      db.close();
    }
    w.child.kill("SIGTERM");
    assert.equal(await w.exited, 0, w.stderr());
  });

  test("after Redis is shut down cleanly, the worker logs the lost connection and exits on SIGTERM within seconds", async () => {
    // A Redis of its own: this test shuts it down.
    const own = await startRedis();
    try {
      const w = worker(join(dir, "shutdown.db"), own.url);
      await w.waitFor(/worker \S+ ready/);
      await own.shutdown();
      // The lost connection is logged (once: the reconnects that follow are counted, not written).
      await w.waitFor(/nerkit: worker: queue error: .*(ECONNREFUSED|ECONNRESET|Connection is closed)/, 10_000);
      await new Promise((r) => setTimeout(r, 1500)); // a few reconnect attempts
      assert.ok(w.stderr().split("\n").filter((l) => l.includes("queue error")).length <= 2, w.stderr());
      const signalled = performance.now();
      w.child.kill("SIGTERM");
      const killer = setTimeout(() => w.child.kill("SIGKILL"), 15_000);
      const code = await w.exited;
      clearTimeout(killer);
      const seconds = (performance.now() - signalled) / 1000;
      assert.equal(code, 0, `exit ${code} after ${seconds.toFixed(1)} s (null: it ignored SIGTERM and was SIGKILLed):\n${w.stderr()}`);
      assert.ok(seconds < 4, `${seconds.toFixed(1)} s to exit after SIGTERM`);
      assert.match(w.stderr(), /SIGTERM: finishing the chunks in progress/);
    } finally {
      await own.stop();
    }
  });
});
