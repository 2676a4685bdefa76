// One combination under test: a job database (a SQLite file, or a new database on the throwaway
// PostgreSQL cluster), optionally a throwaway Redis and `nerkit worker` processes, and a real
// `nerkit serve` on a fixed loopback port (so that a restarted server answers at the same address).
// Every process it starts is recorded in `registry` (a kill by the bench is marked expected, so that
// any other exit is counted as a finding) and stopped by its pid in stop(), or by the global
// clean-up of run.mjs when the run times out. It reads a job's progress and its results from the
// database itself (better-sqlite3 or pg), never through the server under test.
// What it leaves out: the PostgreSQL cluster itself (one per run, started by the test helper, which
// stops it and removes its folder when this process exits).

import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { tempDir } from "../../dist/test/helpers.js";
import { sqliteResultCounts } from "../../dist/test/job-routes.js";
import { testPostgres } from "../../dist/test/postgres-server.js";
import { spawnNerkit } from "../../dist/test/processes.js";
import { freePort, startRedis } from "../../dist/test/redis-server.js";

/** The application_name of the bench's own PostgreSQL connections, which terminateBackends spares. */
export const PROBE = "nerkit-fault-probe";

/** Every process started by any stack of this run, for the global clean-up: { pid, expected, stop() }. */
export const registry = new Set();

const TERMINAL = new Set(["done", "failed"]);

export class Stack {
  /**
   * @param {{ backend: "sqlite" | "postgres", workers: number, model: string, settings: object }} options
   * settings: chunk, maxQueue, sweepMs, lockMs, stalledMs (the flags given to serve and the workers).
   */
  constructor({ backend, workers, model, settings }) {
    this.backend = backend;
    this.workerCount = workers;
    this.model = model;
    this.settings = settings;
    /** Every nerkit process of this stack, in start order: { role, proc, expected }. */
    this.processes = [];
    this.workers = [];
    this.serve = undefined;
    this.cleanups = [];
  }

  async start() {
    if (this.backend === "sqlite") {
      const dir = tempDir("nerkit-faults-");
      this.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      this.db = join(dir, "jobs.db");
    } else {
      const database = await testPostgres();
      if (!database) throw new Error("no PostgreSQL for the bench (see test/postgres-server.ts)");
      this.cleanups.push(() => database.drop());
      this.db = database.url;
    }
    if (this.workerCount > 0) {
      this.redis = await startRedis();
      const entry = { pid: () => this.redis.pid(), stop: () => this.redis.stop() };
      registry.add(entry);
      this.cleanups.push(async () => {
        registry.delete(entry);
        await this.redis.stop();
      });
    }
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    await this.startServe().waitFor(/listening on .*ready/, 60_000);
    for (let i = 0; i < this.workerCount; i++) this.startWorker();
    await Promise.all(this.workers.map((w) => w.proc.waitFor(/worker \S+ ready/, 60_000)));
  }

  /** The --db for a process, its connections named after it where the database is PostgreSQL. */
  dbFor(name) {
    if (this.backend === "sqlite") return this.db;
    const url = new URL(this.db);
    url.searchParams.set("application_name", name);
    return url.toString();
  }

  spawn(role, args) {
    const proc = spawnNerkit(args);
    const entry = { role, proc, expected: false, pid: () => proc.child.pid, stop: () => kill(proc) };
    this.processes.push(entry);
    registry.add(entry);
    return entry;
  }

  /** serve on this stack's port; answers the process (not yet ready). */
  startServe() {
    const s = this.settings;
    const queue = this.redis ? ["--queue", this.redis.url] : [];
    this.serve = this.spawn("serve", [
      "serve", "--model", this.model, "--db", this.dbFor("nerkit-serve"), "--port", String(this.port), "--no-log", "--threads", "1",
      "--max-batch", String(s.chunk), "--max-queue", String(s.maxQueue), "--sweep-interval-ms", String(s.sweepMs), ...queue,
    ]);
    return this.serve.proc;
  }

  startWorker() {
    const s = this.settings;
    const worker = this.spawn("worker", [
      "worker", "--model", this.model, "--db", this.dbFor(`nerkit-worker-${this.workers.length}`), "--queue", this.redis.url, "--threads", "1",
      "--lock-duration-ms", String(s.lockMs), "--stalled-interval-ms", String(s.stalledMs),
    ]);
    this.workers.push(worker);
    return worker;
  }

  /** Sends signal to a process of this stack, marking its exit as the bench's doing. */
  signal(entry, signal) {
    entry.expected = true;
    entry.proc.child.kill(signal);
  }

  /** The processes that exited without the bench asking: [{ role, code, signal, tail }]. */
  unexpectedExits() {
    return this.processes
      .filter((e) => !e.expected && (e.proc.child.exitCode !== null || e.proc.child.signalCode !== null))
      .map((e) => ({ role: e.role, code: e.proc.child.exitCode, signal: e.proc.child.signalCode, tail: e.proc.stderr().trim().split("\n").slice(-3).join(" | ") }));
  }

  /** The job's row ({ status, done, total, error }), read from the database; undefined while it cannot be read. */
  async job(id) {
    const rows = await this.query("SELECT status, done_count AS done, total, error FROM jobs WHERE id = ?", [id]).catch(() => undefined);
    return rows?.[0];
  }

  async finished(id) {
    const job = await this.job(id);
    return job && TERMINAL.has(job.status) ? job : undefined;
  }

  /**
   * Results per submitted document, from the database: { once, lost, doubled, stray, unfinished, mismatched }.
   * lost: documents of a job that did not fail with no result; unfinished: the same for a failed job
   * (not counted as lost: the job says why); stray: results for a seq that was never submitted;
   * mismatched: documents whose stored id is not the one submitted at that position.
   */
  async counts(id, submitted, jobStatus) {
    const perSeq =
      this.backend === "sqlite"
        ? sqliteResultCounts(this.db, id)
        : await this.query("SELECT seq, count(*)::int AS n FROM results WHERE job_id = ? GROUP BY seq", [id]);
    const n = new Map(perSeq.map((r) => [Number(r.seq), Number(r.n)]));
    let once = 0, doubled = 0, missing = 0;
    for (let seq = 0; seq < submitted; seq++) {
      const k = n.get(seq) ?? 0;
      if (k === 1) once++;
      else if (k > 1) doubled++;
      else missing++;
    }
    const stray = [...n.keys()].filter((seq) => !(seq >= 0 && seq < submitted)).length;
    const concat = this.backend === "sqlite" ? "'d' || seq" : "'d' || seq::text";
    const [{ mismatched, documents }] = await this.query(
      `SELECT count(*) FILTER (WHERE doc_id IS DISTINCT FROM ${concat}) AS mismatched, count(*) AS documents FROM documents WHERE job_id = ?`,
      [id],
    );
    const failed = jobStatus === "failed";
    return {
      once,
      doubled,
      lost: failed ? 0 : missing,
      unfinished: failed ? missing : 0,
      stray,
      mismatched: Number(mismatched),
      documents: Number(documents),
    };
  }

  /** One query on a connection of its own (SQLite read-only; PostgreSQL named PROBE); `?` placeholders. */
  async query(sql, params) {
    if (this.backend === "sqlite") {
      const db = new Database(this.db, { readonly: true, timeout: 200 });
      try {
        return db.prepare(sql).all(...params);
      } finally {
        db.close();
      }
    }
    let i = 0;
    const client = new pg.Client({ connectionString: this.db, application_name: PROBE, connectionTimeoutMillis: 2000 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return (await client.query(sql.replace(/\?/g, () => `$${++i}`), params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Kills every process of this stack (SIGKILL, by pid), then removes what it made. */
  async stop() {
    for (const e of this.processes) {
      e.expected = true;
      await kill(e.proc);
      registry.delete(e);
    }
    for (const cleanup of this.cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
  }
}

async function kill(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  await proc.exited;
}
