// Batch-job throughput of the service: 10,000 CoNLL-2003 sentences (train, as plain text) posted as
// one job to `nerkit serve`, timed from the POST to the job's last stored result. Settings: the
// job database on SQLite or PostgreSQL, documents annotated in the server process or by one or two
// `nerkit worker` processes through Redis (BullMQ). Every document's result is checked to be
// stored exactly once. The servers this needs (PostgreSQL, Redis) are started here, on loopback,
// in temporary folders, with the test helpers' code (dist/test/postgres-server.js, redis-server.js).
//
// Usage (after `npm run build`): node bench/serve/batch.mjs [--documents 10000] [--model DIR]
//   [--threads 2] [--settings sqlite,postgres,sqlite+1worker,sqlite+2workers,postgres+2workers]
//   (default model: the DistilBERT-shaped one of bench/serve/load.mjs)

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConll, readTextFile } from "../../dist/src/index.js";
import { openRepository } from "../../dist/src/serve/storage/open.js";
import { benchModel, flag, freePort, nerkit, out, root, shared, stop, waitReady } from "./common.mjs";

const count = Number(flag("documents", 10000));
const threads = Number(flag("threads", 2));
const settings = String(flag("settings", "sqlite,postgres,sqlite+1worker,sqlite+2workers,postgres+2workers")).split(",");
const modelDir = benchModel();

const train = join(shared, "data", "conll2003", "train.conll");
const texts = parseConll(readTextFile(train), { file: train }).sentences.map((s) => s.tokens.join(" ")).slice(0, count);
const body = texts.map((text, i) => JSON.stringify({ id: `s${i}`, text })).join("\n") + "\n";

const { testPostgres } = await import("../../dist/test/postgres-server.js");
const { startRedis } = await import("../../dist/test/redis-server.js");

const rows = [];
for (const setting of settings) {
  const [store, workerPart] = setting.split("+");
  const workers = workerPart ? Number(workerPart.replace("workers", "").replace("worker", "")) : 0;
  const cleanup = [];
  let db;
  if (store === "postgres") {
    const pg = await testPostgres();
    if (!pg) throw new Error("no PostgreSQL for the bench");
    db = pg.url;
    cleanup.push(() => pg.drop());
  } else db = join(mkdtempSync(join(tmpdir(), "nerkit-batch-")), "jobs.db");
  // Created (and migrated) before the server and the workers start: a worker refuses a SQLite
  // file that does not exist, which would otherwise be made only by the first job.
  await (await openRepository(db)).close();
  let queueArgs = [];
  if (workers > 0) {
    const redis = await startRedis();
    queueArgs = ["--queue", redis.url];
    cleanup.push(() => redis.stop());
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Workers share the cores: each gets threads / workers ONNX Runtime threads (at least one).
  const workerThreads = String(Math.max(1, Math.floor(threads / Math.max(1, workers))));
  const server = nerkit(["serve", "--model", modelDir, "--port", String(port), "--threads", String(threads), "--no-log", "--db", db, ...queueArgs]);
  const workerProcesses = Array.from({ length: workers }, () => nerkit(["worker", "--model", modelDir, "--db", db, ...queueArgs, "--threads", workerThreads]));
  try {
    await waitReady(url, server);
    await new Promise((r) => setTimeout(r, 3000)); // the workers load their model
    const started = performance.now();
    const response = await fetch(`${url}/v1/jobs`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body });
    if (response.status !== 202) throw new Error(`POST /v1/jobs: ${response.status} ${await response.text()}`);
    const { id } = await response.json();
    let job;
    for (;;) {
      const dead = workerProcesses.find((w) => w.exitCode !== null);
      if (dead) throw new Error(`a worker exited (${dead.exitCode}): ${dead.stderrText}`);
      job = await (await fetch(`${url}/v1/jobs/${id}`)).json();
      if (job.status === "done" || job.status === "failed") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - started) / 1000;
    if (job.status !== "done") throw new Error(`job ${job.status}: ${job.error}`);
    const repository = await openRepository(db);
    const stored = await repository.results(id, 0, count + 1);
    await repository.close();
    const unique = new Set(stored.map((r) => r.seq)).size;
    const row = { setting, store, workers, documents: count, seconds, perSecond: count / seconds, stored: stored.length, unique };
    rows.push(row);
    console.error(`${setting}: ${count} documents in ${seconds.toFixed(1)} s (${row.perSecond.toFixed(0)}/s); ${stored.length} results, ${unique} distinct`);
  } finally {
    await Promise.all([server, ...workerProcesses].map(stop));
    for (const f of cleanup.reverse()) await f();
  }
}

console.log(`\n## Batch jobs: ${count} CoNLL-2003 train sentences in one job; model ${modelDir.replace(root + "/", "")}; ${threads} threads in all\n`);
console.log("| database | annotated by | documents/s | seconds | results stored (distinct) |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.store === "postgres" ? "PostgreSQL" : "SQLite"} | ${r.workers ? `${r.workers} worker${r.workers > 1 ? "s" : ""} (Redis)` : "the server"} | ${r.perSecond.toFixed(0)} | ${r.seconds.toFixed(1)} | ${r.stored} (${r.unique}) |`);
writeFileSync(join(out, "batch.json"), JSON.stringify(rows, null, 2));
