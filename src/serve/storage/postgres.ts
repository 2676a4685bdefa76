// The job repository on PostgreSQL (node-postgres, a pool of connections), with the semantics of the
// SQLite one (sqlite.ts) so that one test suite holds for both. Numbered migrations are recorded in
// schema_migrations and applied in one transaction at open, under an advisory lock so that processes
// starting together do not race. Results are stored at most once per (job, seq) by ON CONFLICT DO
// NOTHING, and a job's progress grows by the rows actually inserted, under the job's row lock, so
// workers saving the same chunk at once count it once. A bigserial `pos` stands in for SQLite's
// rowid wherever order of insertion is the order of the answer. Entities and spans are `json`, not
// `jsonb`, so they come back as written (key order too) and both databases answer byte-identical
// results; nothing queries inside them. Queries cast JSON and timestamps
// to the text rows.ts maps, so both databases answer the same objects.
// Every wait is bounded (poolConfig): connecting, a statement, the answer to it, a lock; and TCP
// keep-alive finds dead idle connections, so a database that stops answering makes calls fail as
// unavailable (retried by the jobs: storage-retry.ts) instead of hanging.
// What it leaves out: telling other processes of a new job (LISTEN/NOTIFY); choosing a schema, which
// the URL does (?options=-c search_path=...); the schema's migrations (postgres-schema.ts).

import { randomUUID } from "node:crypto";
import pg from "pg";
import { MIGRATIONS, migrate } from "./postgres-schema.js";
import { reviewOrderBy } from "./review-order-sql.js";
import { PostgresModelStore } from "./postgres-models.js";
import type { ModelVersionStore } from "./model-versions.js";
import { isUnansweredQuery, translatePostgresError } from "./postgres-errors.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS } from "./postgres-timeouts.js";
import {
  AuditSettings,
  DocumentResult,
  Job,
  JobRepository,
  JobResult,
  JobStatus,
  NewDocument,
  NewReview,
  PendingDocument,
  SeqRange,
  ReviewedResult,
  StoredResult,
  DeleteOutcome,
  ReviewedPage,
  ReviewOrder,
} from "./repository.js";
import { JobRow, PageCursor, ResultRow, ReviewRow, decodeCursor, encodeCursor, storableJson, storableText, toJob, toResult, toStoredResult, withReviews } from "./rows.js";

/** The schema's migrations (postgres-schema.ts), for the tests that build a database at an older one. */
export { MIGRATIONS };

/** Documents per INSERT: one round trip for most jobs, a bounded message for huge ones. */
const INSERT_BATCH = 5000;

/** TCP keep-alive probes start after a connection has been idle this long, so that a peer gone
 * without a word (a network cut, a host powered off) is found even by a connection nobody uses. */
const KEEP_ALIVE_DELAY_MS = 10_000;

/** A timestamptz as Date.toISOString() writes it, which is what SQLite stores. */
function iso(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

const JOB_COLUMNS = `id, ${iso("created_at")} AS created_at, status, total, done_count, error, audit_rate, audit_seed::text AS audit_seed FROM jobs`;
const RESULT_COLUMNS = "r.job_id, r.seq, d.doc_id, d.text, r.entities::text AS entities, r.decision, r.audit, r.informativeness, r.model_version FROM results r JOIN documents d ON d.job_id = r.job_id AND d.seq = r.seq";
/**
 * Review queue and export order: oldest job first, then document order. Not the order results were
 * stored in (pos), which follows whichever chunk finished first. Same order as sqlite.ts's.
 */
const IN_JOB_ORDER = "JOIN jobs j ON j.id = r.job_id";
const JOB_ORDER_COLUMNS = "j.created_at, j.pos, r.seq";
const JOB_ORDER = `ORDER BY ${JOB_ORDER_COLUMNS}`;
const REVIEWED = "EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = r.job_id AND v.seq = r.seq)";

/** Strings (also inside arrays) as the database can store and compare them: a NUL in an id looked up would be an error, not a miss. */
function storableParam(value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  return Array.isArray(value) ? value.map(storableParam) : value;
}

type Queryable = pg.Pool | pg.PoolClient;

async function run<R extends pg.QueryResultRow>(on: Queryable, sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> {
  return on.query<R>(sql, params.map(storableParam));
}

export interface PostgresOptions {
  /** How long a statement waits for a lock (PostgreSQL's lock_timeout) before failing with StorageUnavailableError. */
  busyTimeoutMs?: number;
  /** How long a statement may take, or its answer may be awaited, before failing with StorageUnavailableError. */
  queryTimeoutMs?: number;
  /** How long opening a connection may take before failing with StorageUnavailableError. */
  connectTimeoutMs?: number;
}

/** node-postgres's pool settings for url under options: every way a call could wait for ever is bounded.
 * A server that stops answering (packets dropped, no reset) would otherwise hold a query, and the job
 * behind it, for ever: the server's statement_timeout ends a statement that runs too long, and
 * query_timeout, a little later so that the server's clearer error (57014) comes first when it can,
 * ends the wait for an answer that never comes; the connection is then discarded (transaction,
 * below; pool.query releases it with the error), and the server ends a transaction it left open. */
export function poolConfig(url: string, options: PostgresOptions = {}): pg.PoolConfig {
  // At least 1 ms: a timeout of 0 would wait forever in PostgreSQL, where SQLite's 0 fails at once.
  const queryTimeout = Math.max(1, options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
  return {
    connectionString: url,
    lock_timeout: Math.max(1, options.busyTimeoutMs ?? 5000),
    statement_timeout: queryTimeout,
    // A client that vanished mid-transaction (its connection silent, not closed) leaves the server's
    // backend holding the transaction's locks (the job's row lock of saveResults) until TCP gives up,
    // hours later: every later save of that job would wait on the lock. Our transactions send their
    // statements back to back, so a session idle inside one this long has lost its client.
    idle_in_transaction_session_timeout: queryTimeout,
    query_timeout: queryTimeout + Math.min(2000, Math.ceil(queryTimeout / 4)),
    connectionTimeoutMillis: Math.max(1, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEP_ALIVE_DELAY_MS,
  };
}

export class PostgresJobRepository implements JobRepository {
  private ended = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  /** Connects to the database at url (postgres:// or postgresql://) and migrates it. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresJobRepository> {
    const pool = new pg.Pool(poolConfig(url, options));
    // A connection the server drops (pg_terminate_backend, a restart, a network cut) emits 'error';
    // unheard, the event would end the process. An idle one is reported on the pool, which has
    // already discarded it. One checked out (a query, a transaction) emits on itself: the query in
    // flight fails too, and that failure (StorageUnavailableError, below) is what the caller sees;
    // released with the error, the connection is discarded. Either way the next query connects afresh.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const repository = new PostgresJobRepository(pool, url);
    try {
      await repository.transaction(migrate);
      return repository;
    } catch (error) {
      await repository.close().catch(() => {});
      throw error;
    }
  }

  async createJob(documents: readonly NewDocument[], audit?: AuditSettings): Promise<Job> {
    const job: JobRow = {
      id: randomUUID(),
      created_at: new Date().toISOString(),
      status: documents.length === 0 ? "done" : "queued",
      total: documents.length,
      done_count: 0,
      error: null,
      audit_rate: audit?.rate ?? null,
      audit_seed: audit?.seed ?? null,
    };
    await this.transaction(async (client) => {
      await run(client, "INSERT INTO jobs (id, created_at, status, total, audit_rate, audit_seed) VALUES ($1, $2, $3, $4, $5, $6)", [job.id, job.created_at, job.status, job.total, job.audit_rate, job.audit_seed]);
      for (let start = 0; start < documents.length; start += INSERT_BATCH) {
        const batch = documents.slice(start, start + INSERT_BATCH);
        await run(
          client,
          `INSERT INTO documents (job_id, seq, doc_id, text, status)
           SELECT $1, $2::integer + d.n - 1, d.doc_id, d.text, 'pending' FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS d (doc_id, text, n)`,
          [job.id, start, batch.map((d) => d.docId ?? null), batch.map((d) => d.text)],
        );
      }
    });
    return toJob(job);
  }

  async getJob(id: string): Promise<Job | undefined> {
    const row = (await this.query<JobRow>(`SELECT ${JOB_COLUMNS} WHERE id = $1`, [id]))[0];
    return row && toJob(row);
  }

  async unfinishedJobs(): Promise<string[]> {
    return (await this.query<{ id: string }>("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at, pos")).map((r) => r.id);
  }

  pendingDocuments(jobId: string, range?: SeqRange): Promise<PendingDocument[]> {
    if (!range) return this.query<PendingDocument>("SELECT seq, text FROM documents WHERE job_id = $1 AND status = 'pending' ORDER BY seq", [jobId]);
    return this.query<PendingDocument>("SELECT seq, text FROM documents WHERE job_id = $1 AND status = 'pending' AND seq BETWEEN $2 AND $3 ORDER BY seq", [jobId, range.first, range.last]);
  }

  async setStatus(jobId: string, status: JobStatus, error?: string): Promise<void> {
    await this.query("UPDATE jobs SET status = $2, error = $3 WHERE id = $1", [jobId, status, error ?? null]);
  }

  async saveResults(jobId: string, results: readonly DocumentResult[]): Promise<void> {
    await this.transaction(async (client) => {
      // The job's row lock makes saves of one job take turns: two workers saving the same chunk
      // cannot deadlock on the results' key, and the second sees the first's rows as conflicts.
      await run(client, "SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [jobId]);
      const seqs = results.map((r) => r.seq);
      const inserted = await run(
        client,
        `INSERT INTO results (job_id, seq, entities, decision, audit, informativeness, model_version)
         SELECT $1, r.seq, r.entities::json, r.decision, r.audit, r.informativeness, r.model_version
         FROM unnest($2::integer[], $3::text[], $4::text[], $5::boolean[], $6::double precision[], $7::text[]) WITH ORDINALITY AS r (seq, entities, decision, audit, informativeness, model_version, n)
         ORDER BY r.n
         ON CONFLICT (job_id, seq) DO NOTHING`,
        [
          jobId,
          seqs,
          results.map((r) => storableJson(r.entities)),
          results.map((r) => r.decision),
          results.map((r) => r.audit === true),
          results.map((r) => r.informativeness ?? null),
          results.map((r) => r.modelVersion ?? null),
        ],
      );
      await run(client, "UPDATE documents SET status = 'done' WHERE job_id = $1 AND seq = ANY($2::integer[]) AND status = 'pending'", [jobId, seqs]);
      await run(
        client,
        "UPDATE jobs SET done_count = done_count + $2, status = CASE WHEN done_count + $2 >= total THEN 'done' ELSE status END WHERE id = $1",
        [jobId, inserted.rowCount ?? 0],
      );
    });
  }

  async results(jobId: string, offset: number, limit: number): Promise<StoredResult[]> {
    const rows = await this.query<ResultRow>(`SELECT ${RESULT_COLUMNS} WHERE r.job_id = $1 ORDER BY r.seq LIMIT $2 OFFSET $3`, [jobId, limit, offset]);
    return rows.map(toStoredResult);
  }

  async result(jobId: string, seq: number): Promise<JobResult | undefined> {
    // bigint: a seq past the integer column's range (from a URL) is a miss, not an error.
    const row = (await this.query<ResultRow>(`SELECT ${RESULT_COLUMNS} WHERE r.job_id = $1 AND r.seq = $2::bigint`, [jobId, seq]))[0];
    return row && toResult(row);
  }

  async reviewQueue(offset: number, limit: number, order: ReviewOrder = { mode: "fifo" }): Promise<JobResult[]> {
    const orderBy = reviewOrderBy(order, { jobOrder: JOB_ORDER_COLUMNS, md5: "md5" });
    const rows = await this.query<ResultRow>(`SELECT ${RESULT_COLUMNS} ${IN_JOB_ORDER} WHERE (r.decision = 'review' OR r.audit) AND NOT ${REVIEWED} ${orderBy} LIMIT $1 OFFSET $2`, [limit, offset]);
    return rows.map(toResult);
  }

  async saveReview(review: NewReview): Promise<void> {
    // A replaced review takes a new pos, so it moves to the end as SQLite's delete-then-insert does.
    await this.query(
      `INSERT INTO reviews (job_id, seq, reviewer, action, spans, created_at, model_version)
       VALUES ($1, $2, $3, $4, $5::json, $6, (SELECT model_version FROM results WHERE job_id = $1 AND seq = $2))
       ON CONFLICT (job_id, seq, reviewer) DO UPDATE SET action = EXCLUDED.action, spans = EXCLUDED.spans, created_at = EXCLUDED.created_at, pos = EXCLUDED.pos, model_version = EXCLUDED.model_version`,
      [review.jobId, review.seq, review.reviewer, review.action, review.spans ? storableJson(review.spans) : null, new Date().toISOString()],
    );
  }

  async reviewedResults(): Promise<ReviewedResult[]> {
    // One snapshot for both queries, so that a review saved between them cannot go missing.
    return this.transaction(async (client) => {
      const reviews = await run<ReviewRow>(client, `SELECT job_id, seq, reviewer, action, spans::text AS spans, ${iso("created_at")} AS created_at, model_version FROM reviews ORDER BY created_at, pos`);
      const rows = await run<ResultRow>(client, `SELECT ${RESULT_COLUMNS} ${IN_JOB_ORDER} WHERE ${REVIEWED} ${JOB_ORDER}`);
      return withReviews(rows.rows, reviews.rows);
    }, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  async reviewedResultsPage(after: string | undefined, limit: number): Promise<ReviewedPage> {
    // One snapshot for the page's queries, as reviewedResults takes.
    return this.transaction(async (client) => {
      const findJob = async (from: { createdAt: string | null; pos: string }): Promise<PageCursor | undefined> => {
        const row = (
          await run<{ id: string; created_at: string; pos: string }>(
            client,
            `SELECT id, ${iso("created_at")} AS created_at, pos::text AS pos FROM jobs j
             WHERE ($1::timestamptz IS NULL OR (created_at, pos) > ($1::timestamptz, $2::bigint)) AND EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = j.id)
             ORDER BY created_at, pos LIMIT 1`,
            [from.createdAt, from.pos],
          )
        ).rows[0];
        return row && { createdAt: row.created_at, pos: row.pos, jobId: row.id, seq: -1 };
      };
      const results: ReviewedResult[] = [];
      let at = after === undefined ? await findJob({ createdAt: null, pos: "0" }) : decodeCursor(after);
      while (at) {
        const rows = (
          await run<ResultRow>(client, `SELECT ${RESULT_COLUMNS} WHERE r.job_id = $1 AND r.seq > $2 AND ${REVIEWED} ORDER BY r.seq LIMIT $3`, [at.jobId, at.seq, limit - results.length])
        ).rows;
        if (rows.length > 0) {
          const reviews = await run<ReviewRow>(
            client,
            `SELECT job_id, seq, reviewer, action, spans::text AS spans, ${iso("created_at")} AS created_at, model_version FROM reviews WHERE job_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY created_at, pos`,
            [at.jobId, rows[0].seq, rows[rows.length - 1].seq],
          );
          results.push(...withReviews(rows, reviews.rows));
          at = { ...at, seq: rows[rows.length - 1].seq };
        }
        if (results.length === limit) return { results, next: encodeCursor(at) };
        at = await findJob(at);
      }
      return { results };
    }, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  async listJobs(offset: number, limit: number): Promise<Job[]> {
    return (await this.query<JobRow>(`SELECT ${JOB_COLUMNS} ORDER BY created_at DESC, pos DESC LIMIT $1 OFFSET $2`, [limit, offset])).map(toJob);
  }

  async deleteJob(id: string): Promise<DeleteOutcome> {
    return this.transaction(async (client) => {
      // The job's row lock, which saveResults also takes: no result is being stored meanwhile.
      const row = (await run<{ status: JobStatus }>(client, "SELECT status FROM jobs WHERE id = $1 FOR UPDATE", [id])).rows[0];
      if (!row) return "not-found";
      if (row.status === "queued" || row.status === "running") return "unfinished";
      for (const table of ["reviews", "results", "documents"]) await run(client, `DELETE FROM ${table} WHERE job_id = $1`, [id]);
      await run(client, "DELETE FROM jobs WHERE id = $1", [id]);
      return "deleted";
    });
  }

  async finishedJobsBefore(before: string, limit: number): Promise<string[]> {
    const rows = await this.query<{ id: string }>("SELECT id FROM jobs WHERE status IN ('done', 'failed') AND created_at < $1::timestamptz ORDER BY created_at, pos LIMIT $2", [before, limit]);
    return rows.map((r) => r.id);
  }

  /** The model versions' rows (postgres-models.ts), on this pool. */
  models(): ModelVersionStore {
    return new PostgresModelStore({ query: (sql, params) => this.query(sql, params), transaction: (fn) => this.transaction(fn) });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }

  /** A statement on this pool, errors translated: for the stores that share it (postgres-retrains.ts). */
  sharedQuery<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.query<R>(sql, params);
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await run<R>(this.pool, sql, params)).rows;
    } catch (error) {
      throw translatePostgresError(error, this.url);
    }
  }

  /** fn in a transaction on one connection: committed if it resolves, rolled back if it throws. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>, begin = "BEGIN"): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translatePostgresError(error, this.url);
    }
    // A connection whose rollback fails is broken: released with the error, the pool discards it.
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const value = await fn(client);
      await client.query("COMMIT");
      return value;
    } catch (error) {
      // A statement left unanswered (query_timeout) leaves the connection in an unknown state, and a
      // ROLLBACK behind it would wait as long again: the connection is discarded instead, and the
      // server rolls the transaction back when it notices the connection gone.
      if (isUnansweredQuery(error)) broken = error as Error;
      else await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw translatePostgresError(error, this.url);
    } finally {
      client.release(broken);
    }
  }
}
