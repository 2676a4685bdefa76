// The job repository on SQLite (better-sqlite3, synchronous under the async interface): WAL mode,
// numbered migrations recorded in schema_migrations and applied in one transaction at open, every
// write in a transaction. UNIQUE(job_id, seq) on results makes storing a result idempotent, which
// is what lets a job resume after a crash without doubling a document.
// better-sqlite3 is synchronous: a statement that waits for another process's lock waits on the
// event loop, and froze the whole server (/healthz included) for the busy timeout. So SQLite's own
// wait is kept to BUSY_STEP_MS, and a statement that still finds the lock is tried again after an
// asynchronous pause, until busyTimeoutMs has passed; then it is StorageUnavailableError (a 503).
// What it leaves out: connection pooling (one connection; SQLite serialises writers anyway), and the
// schema's migrations (sqlite-schema.ts).

import { createHash, randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { MIGRATIONS, migrate } from "./sqlite-schema.js";
import { reviewOrderBy } from "./review-order-sql.js";
import { SqliteModelStore } from "./sqlite-models.js";
import type { ModelVersionStore } from "./model-versions.js";
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
  ReviewedResult,
  SeqRange,
  StorageUnavailableError,
  StoredResult,
  DeleteOutcome,
  ReviewedPage,
  ReviewOrder,
} from "./repository.js";
import { JobRow, PageCursor, ResultRow, ReviewRow, decodeCursor, encodeCursor, storableJson, storableText, toJob, toResult, toStoredResult, withReviews } from "./rows.js";

/** The schema's migrations (sqlite-schema.ts), for the tests that build a database at an older one. */
export { MIGRATIONS };

/** SQLite's "not now" codes (locked, read-only, cannot open) become StorageUnavailableError. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|CANTOPEN|PERM|IOERR|FULL)/;

function translate(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && UNAVAILABLE.test(code)) {
    return new StorageUnavailableError(`the job database is unavailable (${code}): ${(error as Error).message}`, { cause: error });
  }
  if (error instanceof TypeError && /directory does not exist/.test(error.message)) {
    return new StorageUnavailableError(`the job database is unavailable: ${error.message}`, { cause: error });
  }
  return error;
}

/** The longest one statement blocks the event loop waiting for a lock (SQLite's busy_timeout). */
export const BUSY_STEP_MS = 10;
/** The longest asynchronous pause between two tries of a statement that found the database locked. */
const MAX_PAUSE_MS = 100;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/** fn (one statement or one transaction, which rolls back when it throws, so trying it again is
 * safe), tried again while the database is locked, for at most budgetMs. */
async function guarded<T>(budgetMs: number, fn: () => T): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let pause = 2; ; pause = Math.min(2 * pause, MAX_PAUSE_MS)) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw translate(error);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
  }
}

const RESULT_COLUMNS = "r.job_id, r.seq, d.doc_id, d.text, r.entities, r.decision, r.audit, r.informativeness, r.model_version FROM results r JOIN documents d ON d.job_id = r.job_id AND d.seq = r.seq";

/**
 * Review queue and export order: oldest job first, then document order. Not the order results were
 * stored in, which follows whichever chunk finished first. Same order as postgres.ts's.
 */
const IN_JOB_ORDER = "JOIN jobs j ON j.id = r.job_id";
const JOB_ORDER_COLUMNS = "j.created_at, j.rowid, r.seq";
const JOB_ORDER = `ORDER BY ${JOB_ORDER_COLUMNS}`;

export interface SqliteOptions {
  /** How long a statement keeps trying while another connection holds the lock before failing
   * (StorageUnavailableError); the event loop is blocked for at most BUSY_STEP_MS of it at a time. */
  busyTimeoutMs?: number;
}

/** A connection to the file at path, WAL and foreign keys on. A file the process may not write is
 * opened read-only by SQLite, silently, and stays so for the connection's life. */
function connect(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_STEP_MS });
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("foreign_keys = ON");
    db.function("nerkit_md5", { deterministic: true }, (text) => createHash("md5").update(String(text)).digest("hex"));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function isReadOnly(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_READONLY");
}

export class SqliteJobRepository implements JobRepository {
  /** Set when a write found the database read-only: the next call opens a fresh connection first. */
  private reconnectFirst = false;

  private constructor(
    private db: Database.Database,
    private readonly path: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /** fn, tried again while the database is locked, for at most busyTimeoutMs. A write refused as
   * read-only makes the next call reconnect: a connection opened while the file was read-only (a
   * restart on a file made read-only) stays read-only after the file is writable again, and would
   * keep a job waiting until the server restarted. A connection opened read-write keeps writing
   * through its open file, whatever the file's mode becomes. */
  private guarded<T>(fn: () => T): Promise<T> {
    return guarded(this.busyTimeoutMs, () => {
      if (this.reconnectFirst) this.reconnect();
      try {
        return fn();
      } catch (error) {
        if (isReadOnly(error) && this.path !== ":memory:") this.reconnectFirst = true;
        throw error;
      }
    });
  }

  /** The old connection is closed first: a read-only one may hold the WAL index in a way that keeps
   * a new connection from writing. Until a new one opens, reconnectFirst stays set, so the closed
   * one is never used. */
  private reconnect(): void {
    if (this.db.open) this.db.close();
    this.db = connect(this.path);
    this.reconnectFirst = false;
  }

  /** Opens (creating if need be) the database at path (":memory:" allowed) and migrates it; fails
   * after BUSY_STEP_MS if another connection holds the lock (openWhenFree waits for it). */
  static open(path: string, options: SqliteOptions = {}): SqliteJobRepository {
    try {
      return SqliteJobRepository.openOnce(path, options);
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * open, tried again while another connection holds the lock, for at most busyTimeoutMs, as every
   * statement is: switching to WAL, migrating, or the first connection's WAL recovery need it, so
   * that a process opening the file while another (a second worker starting at the same moment)
   * did failed at once.
   */
  static openWhenFree(path: string, options: SqliteOptions = {}): Promise<SqliteJobRepository> {
    return guarded(options.busyTimeoutMs ?? 5000, () => SqliteJobRepository.openOnce(path, options));
  }

  /** One try at opening; SQLite's own errors untranslated, the connection closed on failure. */
  private static openOnce(path: string, options: SqliteOptions): SqliteJobRepository {
    let db: Database.Database | undefined;
    try {
      db = connect(path);
      migrate(db);
      return new SqliteJobRepository(db, path, options.busyTimeoutMs ?? 5000);
    } catch (error) {
      db?.close();
      throw error;
    }
  }

  createJob(documents: readonly NewDocument[], audit?: AuditSettings): Promise<Job> {
    return this.guarded(() => {
      const job: JobRow = { id: randomUUID(), created_at: new Date().toISOString(), status: "queued", total: documents.length, done_count: 0, error: null, audit_rate: audit?.rate ?? null, audit_seed: audit?.seed ?? null };
      const insertJob = this.db.prepare("INSERT INTO jobs (id, created_at, status, total, done_count, audit_rate, audit_seed) VALUES (@id, @created_at, @status, @total, 0, @audit_rate, @audit_seed)");
      const insertDocument = this.db.prepare("INSERT INTO documents (job_id, seq, doc_id, text, status) VALUES (?, ?, ?, ?, 'pending')");
      this.db.transaction(() => {
        insertJob.run({ id: job.id, created_at: job.created_at, status: job.status, total: job.total, audit_rate: job.audit_rate, audit_seed: job.audit_seed });
        documents.forEach((d, seq) => insertDocument.run(job.id, seq, d.docId === undefined ? null : storableText(d.docId), storableText(d.text)));
        if (documents.length === 0) this.db.prepare("UPDATE jobs SET status = 'done' WHERE id = ?").run(job.id);
      })();
      return toJob({ ...job, status: documents.length === 0 ? "done" : "queued" });
    });
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.guarded(() => {
      const row = this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
      return row && toJob(row);
    });
  }

  unfinishedJobs(): Promise<string[]> {
    return this.guarded(() => (this.db.prepare("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at, rowid").all() as { id: string }[]).map((r) => r.id));
  }

  pendingDocuments(jobId: string, range?: SeqRange): Promise<PendingDocument[]> {
    return this.guarded(() => {
      const [first, last] = range ? [range.first, range.last] : [0, Number.MAX_SAFE_INTEGER];
      return this.db.prepare("SELECT seq, text FROM documents WHERE job_id = ? AND status = 'pending' AND seq BETWEEN ? AND ? ORDER BY seq").all(jobId, first, last) as PendingDocument[];
    });
  }

  setStatus(jobId: string, status: JobStatus, error?: string): Promise<void> {
    return this.guarded(() => {
      this.db.transaction(() => this.db.prepare("UPDATE jobs SET status = ?, error = ? WHERE id = ?").run(status, error === undefined ? null : storableText(error), jobId))();
    });
  }

  saveResults(jobId: string, results: readonly DocumentResult[]): Promise<void> {
    return this.guarded(() => {
      const insert = this.db.prepare("INSERT OR IGNORE INTO results (job_id, seq, entities, decision, audit, informativeness, model_version) VALUES (?, ?, ?, ?, ?, ?, ?)");
      const markDone = this.db.prepare("UPDATE documents SET status = 'done' WHERE job_id = ? AND seq = ?");
      // done_count is recounted rather than incremented, so it stays right whatever was ignored.
      const progress = this.db.prepare(`
        UPDATE jobs SET done_count = (SELECT COUNT(*) FROM results WHERE job_id = @id),
          status = CASE WHEN (SELECT COUNT(*) FROM results WHERE job_id = @id) >= total THEN 'done' ELSE status END
        WHERE id = @id`);
      this.db.transaction(() => {
        for (const r of results) {
          insert.run(jobId, r.seq, storableJson(r.entities), storableText(r.decision), r.audit ? 1 : 0, r.informativeness ?? null, r.modelVersion ?? null);
          markDone.run(jobId, r.seq);
        }
        progress.run({ id: jobId });
      })();
    });
  }

  results(jobId: string, offset: number, limit: number): Promise<StoredResult[]> {
    return this.guarded(() => {
      const rows = this.db
        .prepare(
          `SELECT r.seq, d.doc_id, d.text, r.entities, r.decision, r.audit, r.informativeness, r.model_version FROM results r JOIN documents d ON d.job_id = r.job_id AND d.seq = r.seq
           WHERE r.job_id = ? ORDER BY r.seq LIMIT ? OFFSET ?`,
        )
        .all(jobId, limit, offset) as Omit<ResultRow, "job_id">[];
      return rows.map(toStoredResult);
    });
  }

  result(jobId: string, seq: number): Promise<JobResult | undefined> {
    return this.guarded(() => {
      const row = this.db.prepare(`SELECT ${RESULT_COLUMNS} WHERE r.job_id = ? AND r.seq = ?`).get(jobId, seq) as ResultRow | undefined;
      return row && toResult(row);
    });
  }

  reviewQueue(offset: number, limit: number, order: ReviewOrder = { mode: "fifo" }): Promise<JobResult[]> {
    return this.guarded(() => {
      const rows = this.db
        .prepare(
          `SELECT ${RESULT_COLUMNS} ${IN_JOB_ORDER} WHERE (r.decision = 'review' OR r.audit = 1)
             AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = r.job_id AND v.seq = r.seq)
           ${reviewOrderBy(order, { jobOrder: JOB_ORDER_COLUMNS, md5: "nerkit_md5" })} LIMIT ? OFFSET ?`,
        )
        .all(limit, offset) as ResultRow[];
      return rows.map(toResult);
    });
  }

  saveReview(review: NewReview): Promise<void> {
    return this.guarded(() => {
      // Delete then insert (not an upsert), so a replaced review also moves to the end in rowid order.
      const remove = this.db.prepare("DELETE FROM reviews WHERE job_id = ? AND seq = ? AND reviewer = ?");
      // The review records the version whose result it judged.
      const insert = this.db.prepare("INSERT INTO reviews (job_id, seq, reviewer, action, spans, created_at, model_version) VALUES (?, ?, ?, ?, ?, ?, (SELECT model_version FROM results WHERE job_id = ? AND seq = ?))");
      const reviewer = storableText(review.reviewer);
      this.db.transaction(() => {
        remove.run(review.jobId, review.seq, reviewer);
        insert.run(review.jobId, review.seq, reviewer, review.action, review.spans ? storableJson(review.spans) : null, new Date().toISOString(), review.jobId, review.seq);
      })();
    });
  }

  reviewedResults(): Promise<ReviewedResult[]> {
    return this.guarded(() => {
      const reviews = this.db.prepare("SELECT job_id, seq, reviewer, action, spans, created_at, model_version FROM reviews ORDER BY created_at, rowid").all() as ReviewRow[];
      const rows = this.db
        .prepare(`SELECT ${RESULT_COLUMNS} ${IN_JOB_ORDER} WHERE EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = r.job_id AND v.seq = r.seq) ${JOB_ORDER}`)
        .all() as ResultRow[];
      return withReviews(rows, reviews);
    });
  }

  reviewedResultsPage(after: string | undefined, limit: number): Promise<ReviewedPage> {
    return this.guarded(() => {
      const nextJob = this.db.prepare(
        `SELECT id, created_at, rowid AS pos FROM jobs j WHERE (created_at > @createdAt OR (created_at = @createdAt AND rowid > @pos))
           AND EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = j.id) ORDER BY created_at, rowid LIMIT 1`,
      );
      const reviewedInJob = this.db.prepare(
        `SELECT ${RESULT_COLUMNS} WHERE r.job_id = ? AND r.seq > ? AND EXISTS (SELECT 1 FROM reviews v WHERE v.job_id = r.job_id AND v.seq = r.seq) ORDER BY r.seq LIMIT ?`,
      );
      const reviewsOf = this.db.prepare("SELECT job_id, seq, reviewer, action, spans, created_at, model_version FROM reviews WHERE job_id = ? AND seq BETWEEN ? AND ? ORDER BY created_at, rowid");
      const findJob = (from: { createdAt: string; pos: number }): PageCursor | undefined => {
        const row = nextJob.get(from) as { id: string; created_at: string; pos: number } | undefined;
        return row && { createdAt: row.created_at, pos: String(row.pos), jobId: row.id, seq: -1 };
      };
      // One read transaction: the page's results and their reviews are one snapshot.
      return this.db.transaction((): ReviewedPage => {
        const results: ReviewedResult[] = [];
        let at = after === undefined ? findJob({ createdAt: "", pos: -1 }) : decodeCursor(after);
        while (at) {
          const rows = reviewedInJob.all(at.jobId, at.seq, limit - results.length) as ResultRow[];
          if (rows.length > 0) {
            const reviews = reviewsOf.all(at.jobId, rows[0].seq, rows[rows.length - 1].seq) as ReviewRow[];
            results.push(...withReviews(rows, reviews));
            at = { ...at, seq: rows[rows.length - 1].seq };
          }
          if (results.length === limit) return { results, next: encodeCursor(at) };
          at = findJob({ createdAt: at.createdAt, pos: Number(at.pos) });
        }
        return { results };
      })();
    });
  }

  listJobs(offset: number, limit: number): Promise<Job[]> {
    return this.guarded(() => (this.db.prepare("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?").all(limit, offset) as JobRow[]).map(toJob));
  }

  deleteJob(id: string): Promise<DeleteOutcome> {
    return this.guarded(() =>
      // immediate: the write lock first, so the status read and the deletes are one step.
      this.db
        .transaction((): DeleteOutcome => {
          const row = this.db.prepare("SELECT status FROM jobs WHERE id = ?").get(id) as { status: JobStatus } | undefined;
          if (!row) return "not-found";
          if (row.status === "queued" || row.status === "running") return "unfinished";
          for (const table of ["reviews", "results", "documents"]) this.db.prepare(`DELETE FROM ${table} WHERE job_id = ?`).run(id);
          this.db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
          return "deleted";
        })
        .immediate(),
    );
  }

  finishedJobsBefore(before: string, limit: number): Promise<string[]> {
    return this.guarded(() =>
      (this.db.prepare("SELECT id FROM jobs WHERE status IN ('done', 'failed') AND created_at < ? ORDER BY created_at, rowid LIMIT ?").all(before, limit) as { id: string }[]).map((r) => r.id),
    );
  }

  /** The model versions' rows (sqlite-models.ts), on this connection. */
  models(): ModelVersionStore {
    return new SqliteModelStore((fn) => this.guarded(() => fn(this.db)));
  }

  /** fn on this connection, tried again while locked: for the stores that share it (sqlite-retrains.ts). */
  onConnection<T>(fn: (db: Database.Database) => T): Promise<T> {
    return this.guarded(() => fn(this.db));
  }

  close(): Promise<void> {
    return this.guarded(() => {
      if (this.db.open) this.db.close();
    });
  }
}
