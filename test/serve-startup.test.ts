// Start-up fails loudly: `nerkit serve` checks its settings, its --db and its model before it
// listens; each failure is exit 2, one line `nerkit: error: ...` naming the flag, and the port is
// never bound (a probe connects to it until the process exits). An unreachable --queue Redis fails
// `serve` and `worker` the same way. In process: settings that
// contradict each other are refused by serveConfig, and /v1/review answers 503, not an empty list,
// when the SQLite folder is gone.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { buildApp } from "../src/serve/app.js";
import { serveConfig } from "../src/serve/config.js";
import { NerkitError } from "../src/errors.js";
import { FakePipeline } from "./fake-pipeline.js";
import { fixturesDir, nerkitBin, tempDir } from "./helpers.js";
import { freePort } from "./redis-server.js";
import { spawnNerkit } from "./processes.js";

const tinyDir = join(fixturesDir, "hf", "bert-tiny");

/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** Runs `nerkit serve ARGS --port P` until it exits (at most 20 s), probing P all along. */
async function serveUntilExit(args: string[]): Promise<{ code: number | null; stderr: string; bound: boolean; probes: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [nerkitBin, "serve", "--port", String(port), "--no-log", "--threads", "1", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => ((running = false), resolve(code))));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  let bound = false;
  let probes = 0;
  while (running) {
    if (await accepts(port)) bound = true;
    probes++;
    await new Promise((r) => setTimeout(r, 10));
  }
  clearTimeout(killer);
  return { code: await exited, stderr, bound, probes };
}

async function assertFailsBeforeListening(args: string[], line: RegExp): Promise<void> {
  const run = await serveUntilExit(args);
  assert.equal(run.code, 2, run.stderr);
  assert.ok(run.probes > 0);
  assert.equal(run.bound, false, `the port was bound before the failure:\n${run.stderr}`);
  const lines = run.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], line);
}

test("serve --db in a folder that does not exist, or under a file: exit 2 naming --db, nothing listening", async () => {
  const dir = tempDir("nerkit-startup-");
  try {
    await assertFailsBeforeListening(["--model", tinyDir, "--db", join(dir, "missing", "x.db")], /^nerkit: error: --db .*missing\/x\.db: cannot create the job database: the folder .*missing does not exist/);
    writeFileSync(join(dir, "plain-file"), "x");
    await assertFailsBeforeListening(["--model", tinyDir, "--db", join(dir, "plain-file", "x.db")], /^nerkit: error: --db .*: cannot create the job database: .*plain-file/);
    // A file that is not a SQLite database is refused too, not answered 503 job after job.
    writeFileSync(join(dir, "garbage.db"), "this is not a database, only some bytes that are long enough to look like a header".repeat(20));
    await assertFailsBeforeListening(["--model", tinyDir, "--db", join(dir, "garbage.db")], /^nerkit: error: --db .*garbage\.db: cannot open the job database: file is not a database/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve --db postgres:// on a closed loopback port: exit 2 naming --db without the password, nothing listening", async () => {
  const url = `postgres://nerkit:never-shown-secret@127.0.0.1:${await freePort()}/nerkit`;
  await assertFailsBeforeListening(["--model", tinyDir, "--db", url], /^nerkit: error: --db postgres:\/\/nerkit@127\.0\.0\.1:\d+\/nerkit: .*ECONNREFUSED/);
  const run = await serveUntilExit(["--model", tinyDir, "--db", url]);
  assert.ok(!run.stderr.includes("never-shown-secret"), run.stderr);
});

test("serve --model /nope and a folder without a checkpoint: exit 2, one line naming --model, nothing listening", async () => {
  await assertFailsBeforeListening(["--model", "/nope", "--db", ":memory:"], /^nerkit: error: --model: "\/nope" is neither a folder nor a Hugging Face model id/);
  const empty = tempDir("nerkit-startup-model-");
  try {
    await assertFailsBeforeListening(["--model", empty, "--db", ":memory:"], /^nerkit: error: --model: .*: no config\.json in the checkpoint folder/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("serve --queue redis://unreachable: exit 2, one line naming --queue, nothing listening", async () => {
  await assertFailsBeforeListening(["--model", tinyDir, "--db", ":memory:", "--queue", "redis://unreachable"], /^nerkit: error: --queue redis:\/\/unreachable:6379\/0: cannot reach Redis: /);
});

test("worker --queue on a closed loopback port: exit 2, one line naming --queue without the password, within seconds", async () => {
  const dir = tempDir("nerkit-startup-worker-");
  try {
    const started = Date.now();
    const worker = spawnNerkit(["worker", "--model", tinyDir, "--db", join(dir, "jobs.db"), "--queue", `redis://nerkit:never-shown-secret@127.0.0.1:${await freePort()}/2`, "--threads", "1"]);
    const killer = setTimeout(() => worker.child.kill("SIGKILL"), 20_000);
    const code = await worker.exited;
    clearTimeout(killer);
    assert.equal(code, 2, worker.stderr());
    // Without the check, BullMQ waits for Redis for ever: the worker would load the model and hang here.
    assert.ok(Date.now() - started < 20_000, "the worker gave up on Redis by itself");
    const errors = worker.stderr().split("\n").filter((l) => l.startsWith("nerkit: error:"));
    assert.equal(errors.length, 1, worker.stderr());
    assert.match(errors[0], /^nerkit: error: --queue redis:\/\/127\.0\.0\.1:\d+\/2: cannot reach Redis: .*ECONNREFUSED/);
    assert.ok(!worker.stderr().includes("never-shown-secret"), worker.stderr());
    assert.doesNotMatch(worker.stderr(), /ready/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve --max-batch larger than --max-queue: exit 2 naming both flags, nothing listening", async () => {
  await assertFailsBeforeListening(["--model", tinyDir, "--db", ":memory:", "--max-batch", "300"], /^nerkit: error: --max-batch 300 is larger than --max-queue 256/);
});

test("serveConfig: a batch or a request that could never enter the queue is refused; the text limit follows a smaller queue", () => {
  const refused = (overrides: Parameters<typeof serveConfig>[0], pattern: RegExp) =>
    assert.throws(() => serveConfig(overrides), (e) => e instanceof NerkitError && e.code === "E_USAGE" && pattern.test(e.message));
  refused({ maxBatch: 17, maxQueue: 16 }, /--max-batch 17 is larger than --max-queue 16/);
  refused({ maxTexts: 300, maxQueue: 256 }, /text limit \(maxTexts 300\) is larger than --max-queue 256/);
  assert.equal(serveConfig({ maxQueue: 100 }).maxTexts, 100);
  assert.equal(serveConfig({}).maxTexts, 256);
  assert.equal(serveConfig({ maxBatch: 16, maxQueue: 16, maxTexts: 16 }).maxQueue, 16);
});

test("a request with as many texts as --max-queue allows is answered, not refused with 503", async () => {
  // Before, the text limit stayed at 256 with a queue of 100: 101 to 256 texts were a 503 every time.
  const app = await buildApp({ pipeline: new FakePipeline(), config: { maxQueue: 100, maxBatch: 16 } });
  try {
    const full = await app.inject({ method: "POST", url: "/v1/entities", payload: { texts: Array.from({ length: 100 }, (_, i) => `Text ${i}`) } });
    assert.equal(full.statusCode, 200, full.body);
    const over = await app.inject({ method: "POST", url: "/v1/entities", payload: { texts: Array.from({ length: 101 }, (_, i) => `Text ${i}`) } });
    assert.equal(over.statusCode, 413, over.body);
    assert.match((over.json() as { error: { code: string; message: string } }).error.message, /at most 100 per request \(--max-texts\)/);
  } finally {
    await app.close();
  }
});

test("/v1/review answers 503 when the SQLite folder is gone, never an empty list", async () => {
  const dir = tempDir("nerkit-startup-review-");
  const folder = join(dir, "jobs");
  mkdirSync(folder);
  const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(folder, "jobs.db") } });
  try {
    // No job yet, the folder is there: an empty queue is the truth.
    const empty = await app.inject("/v1/review");
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(empty.json(), { order: "uncertainty", items: [] });
    rmSync(folder, { recursive: true });
    for (const url of ["/v1/review", "/v1/review/agreement", "/v1/export?format=jsonl"]) {
      const gone = await app.inject(url);
      assert.equal(gone.statusCode, 503, `${url}: ${gone.body}`);
      assert.equal((gone.json() as { error: { code: string } }).error.code, "E_STORAGE_UNAVAILABLE");
      assert.match((gone.json() as { error: { message: string } }).error.message, /jobs does not exist/);
      assert.equal(gone.headers["retry-after"], "1");
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
