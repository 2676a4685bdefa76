// A BullMQ retrain job runs on a worker process (issue 12 §3, §5), with real processes: `nerkit
// serve --queue` records the retrain and queues it; a worker without --retrain leaves it waiting
// (the row says so); a `nerkit worker --retrain` takes it, its trainer runs there (the row's log
// names the worker's pid, the trainer's step lines come out of the worker, none out of the server),
// the row reaches done with a candidate, and the server follows the promotion. A worker killed
// mid-retrain leaves the row failed, not running, and the serving version as it was. Skipped where
// redis-server or ioredis is missing, except under CI.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openRepository } from "../src/serve/storage/open.js";
import { tempDir } from "./helpers.js";
import { tinyModelDir } from "./model-cases.js";
import { NerkitProcess, spawnNerkit, waitUntil } from "./processes.js";
import { RedisServer, redisSkipReason, startRedis } from "./redis-server.js";
import { demoGold, originalTraining, storeReviewedDocuments } from "./retrain-cases.js";

interface RetrainBody {
  id: string;
  status: string;
  phase: string;
  log: string[];
  candidate?: string;
  promoted?: boolean;
  error?: string;
}

describe("serve --queue: retrains run on nerkit worker --retrain", { skip: redisSkipReason() }, () => {
  let redis: RedisServer;
  const dir = tempDir("nerkit-retrain-worker-");
  const db = join(dir, "jobs.db");
  const models = join(dir, "models");
  const processes: NerkitProcess[] = [];
  const strays: number[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    for (const pid of strays) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Ended already.
      }
    }
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (address: string, id: string) => (await (await fetch(`${address}/v1/retrain/${id}`)).json()) as RetrainBody;
  const post = async (address: string) => {
    const r = await fetch(`${address}/v1/retrain`, { method: "POST" });
    assert.equal(r.status, 202, await r.clone().text());
    return ((await r.json()) as { id: string }).id;
  };
  const servingVersion = async (address: string) => {
    const r = await fetch(`${address}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "Angela Merkel met Kofi Annan in Paris." }) });
    return ((await r.json()) as { model_version: string }).model_version;
  };

  test("the worker trains, records the candidate and promotes; the server follows; a killed worker's retrain ends failed", async () => {
    // Twelve reviewed documents in the job database the server and the workers share.
    const repository = await openRepository(db);
    try {
      await storeReviewedDocuments(repository, 12);
    } finally {
      await repository.close();
    }
    const original = originalTraining(dir);
    // A learning rate that changes next to nothing, margin 0, no held-out share (the candidate is
    // calibrated on the gold file, large enough): the gate promotes the candidate.
    const server = spawnNerkit([
      "serve", "--model", tinyModelDir("bert"), "--db", db, "--models", models, "--queue", redis.url, "--port", "0", "--no-log", "--threads", "1", "--sweep-interval-ms", "300",
      "--train", original, "--gold", demoGold, "--max-steps", "2", "--batch-size", "4", "--lr", "1e-9", "--holdout", "0", "--promote-margin", "0", "--max-type-drop", "100",
    ]);
    processes.push(server);
    const [, address] = await server.waitFor(/listening on (\S+)/);
    assert.equal(await servingVersion(address), "v1");

    // An annotation-only worker does not take the retrain: it waits, and says why.
    const annotator = spawnNerkit(["worker", "--model", tinyModelDir("bert"), "--db", db, "--queue", redis.url, "--threads", "1"]);
    processes.push(annotator);
    await annotator.waitFor(/ready/);
    const first = await post(address);
    const waiting = await waitUntil(async () => {
      const r = await get(address, first);
      return r.log.some((l) => /no `nerkit worker --retrain` is connected/.test(l)) ? r : undefined;
    }, "the retrain to say it waits for a retrain worker", 10_000, 50);
    assert.deepEqual([waiting.status, waiting.phase], ["running", "queued"]);

    const trainer = spawnNerkit(["worker", "--model", tinyModelDir("bert"), "--db", db, "--queue", redis.url, "--threads", "1", "--retrain", "--models", models]);
    processes.push(trainer);
    await trainer.waitFor(/ready: .*and retrains/);
    const done = await waitUntil(async () => {
      const r = await get(address, first);
      return r.status === "running" ? undefined : r;
    }, `retrain ${first} to end`, 30_000, 100);
    assert.equal(done.status, "done", JSON.stringify(done));
    assert.equal(done.candidate, "v2");
    assert.equal(done.promoted, true, done.log.join("\n"));
    assert.ok(done.log.includes(`running on worker ${hostname()}:${trainer.child.pid}`), done.log.join("\n"));
    // The trainer's step lines came out of the retrain worker, not the server nor the other worker.
    assert.match(trainer.stderr(), new RegExp(`retrain ${first}: step 2/2\\b`));
    assert.doesNotMatch(server.stderr() + annotator.stderr(), /step \d+\/\d+/);
    // The server follows the serving row (every 5 s) and swaps.
    await waitUntil(async () => ((await servingVersion(address)) === "v2" ? true : undefined), "the server to serve v2", 15_000, 200);

    // Killed as soon as it takes the next retrain: the row ends failed, v2 still serves.
    const second = await post(address);
    await trainer.waitFor(new RegExp(`retrain ${second}: running on worker`), 15_000);
    const children = spawnSync("ps", ["-o", "pid=", "--ppid", String(trainer.child.pid)], { encoding: "utf8" }).stdout.trim().split(/\s+/).filter((p) => p !== "").map(Number);
    trainer.child.kill("SIGKILL");
    strays.push(...children);
    const failed = await waitUntil(async () => {
      const r = await get(address, second);
      return r.status === "running" ? undefined : r;
    }, `retrain ${second} to end after its worker was killed`, 15_000, 100);
    assert.equal(failed.status, "failed", JSON.stringify(failed));
    assert.match(failed.error ?? "", /the worker running it stopped/);
    assert.equal(failed.candidate, undefined);
    assert.equal(await servingVersion(address), "v2");
    // Another retrain may start at once: the running row is gone.
    const r = await fetch(`${address}/v1/retrain`, { method: "POST" });
    assert.equal(r.status, 202, await r.text());
  });
});
