// `serve --queue` when its Redis goes away: the BullMQ queue's errors (one per failed reconnect,
// about one a second) are logged, rate-limited (jobs/rate-limited-log.ts): the first at once, the
// rest counted and said in one line when the server stops; the process stays up and keeps answering.
// A real `nerkit serve` on a throwaway Redis that is shut down; skipped where redis-server or
// ioredis is missing, except under CI (redis-server.ts).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { fixturesDir, nerkitBin } from "./helpers.js";
import { freePort, redisSkipReason, startRedis } from "./redis-server.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");
/** How long Redis stays down before the server is stopped: BullMQ retries about once a second. */
const DOWN_MS = 8000;

interface LogLine {
  level: number;
  msg: string;
}

test("serve --queue with Redis shut down: queue errors logged at a bounded rate, the process stays up", { skip: redisSkipReason() }, async () => {
  const redis = await startRedis();
  const port = await freePort();
  const child = spawn(process.execPath, [nerkitBin, "serve", "--model", tinyDir, "--db", ":memory:", "--queue", redis.url, "--port", String(port), "--threads", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!/listening on/.test(stderr)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = `http://127.0.0.1:${port}`;
    // A job makes the server open its queue (it does on the first job).
    const created = await fetch(`${base}/v1/jobs`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: '{"text": "Angela Merkel visited Paris."}\n' });
    assert.equal(created.status, 202, await created.text());

    await redis.shutdown();
    const downSince = Date.now();
    while (Date.now() - downSince < DOWN_MS) {
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      await new Promise((r) => setTimeout(r, 500));
    }
    const entities = await fetch(`${base}/v1/entities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "Angela Merkel visited Paris." }) });
    assert.equal(entities.status, 200, "the service answers while Redis is down");
    assert.equal(child.exitCode, null, `the process stayed up:\n${stderr}`);

    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, `serve exits cleanly on SIGTERM with Redis gone:\n${stderr}`);

    const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogLine);
    const queueLines = lines.filter((l) => /job queue \(Redis\) failed/.test(l.msg));
    // The first error at once; then, with a 10 s interval, only the count said when the server stops.
    assert.ok(queueLines.length >= 1, `the lost Redis is logged:\n${stdout}`);
    assert.ok(queueLines.length <= 2, `one line per reconnect attempt:\n${queueLines.map((l) => l.msg).join("\n")}`);
    assert.ok(queueLines.every((l) => l.level === 40), "logged as warnings");
    const leftOut = queueLines.map((l) => /(\d+) more error\(s\) left out/.exec(l.msg)).find((m) => m !== null);
    assert.ok(leftOut && Number(leftOut[1]) >= 3, `the reconnect attempts' errors are counted, not written:\n${queueLines.map((l) => l.msg).join("\n")}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    await redis.stop();
  }
});
