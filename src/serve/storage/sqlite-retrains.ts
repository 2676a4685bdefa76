// Retrain jobs (retrains.ts) on SQLite, on the job repository's connection (migration 6's table:
// retrains-schema.ts). A second running row is refused by the partial unique index, so starting
// one is a single INSERT that inserts nothing while another runs.

import type { SqliteJobRepository } from "./sqlite.js";
import { storableText } from "./rows.js";
import { RetrainEnd, RetrainRecord, RetrainRow, RetrainStore, logColumn, retrainSeq, toRetrain } from "./retrains.js";

/** Checked before inserting, so that a refused start takes no id (the index alone would, leaving gaps). */
const RUNNING = "SELECT 1 FROM retrains WHERE status = 'running'";
const COLUMNS = "seq, status, created_at, finished_at, progress, phase, log_tail, candidate, gate, promoted, error, reviews_at_start, promotion_refused, queued";

export class SqliteRetrainStore implements RetrainStore {
  constructor(private readonly repository: SqliteJobRepository) {}

  start(reviewsAtStart: number, queued = false): Promise<RetrainRecord | undefined> {
    return this.repository.onConnection((db) => {
      const row = db
        .prepare(`INSERT INTO retrains (status, created_at, phase, reviews_at_start, queued) SELECT 'running', ?, 'queued', ?, ? WHERE NOT EXISTS (${RUNNING}) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`)
        .get(new Date().toISOString(), reviewsAtStart, queued ? 1 : 0) as RetrainRow | undefined;
      return row && toRetrain(row);
    });
  }

  async progress(id: string, progress: number, phase: string, log: readonly string[]): Promise<void> {
    await this.repository.onConnection((db) =>
      db.prepare("UPDATE retrains SET progress = ?, phase = ?, log_tail = ? WHERE seq = ? AND status = 'running'").run(progress, phase, storableText(logColumn(log)), retrainSeq(id) ?? -1),
    );
  }

  async finish(id: string, end: RetrainEnd, log: readonly string[]): Promise<void> {
    const done = end.status === "done";
    await this.repository.onConnection((db) =>
      db
        .prepare("UPDATE retrains SET status = ?, finished_at = ?, progress = ?, phase = ?, log_tail = ?, candidate = ?, gate = ?, promoted = ?, error = ?, promotion_refused = ? WHERE seq = ? AND status = 'running'")
        .run(
          end.status,
          new Date().toISOString(),
          done ? 1 : 0,
          end.status,
          storableText(logColumn(log)),
          done ? end.candidate : null,
          done ? JSON.stringify(end.gate) : null,
          done ? (end.promoted ? 1 : 0) : null,
          done ? null : storableText(end.error),
          done && end.promotionRefused !== undefined ? storableText(end.promotionRefused) : null,
          retrainSeq(id) ?? -1,
        ),
    );
  }

  cancel(id: string, reason: string): Promise<RetrainRecord | undefined> {
    const line = storableText(`cancelled: ${reason}`.replace(/[\r\n]+/g, " "));
    return this.repository.onConnection((db) => {
      const row = db
        .prepare(`UPDATE retrains SET status = 'cancelled', phase = 'cancelled', finished_at = ?, error = ?, log_tail = CASE WHEN log_tail = '' THEN ? ELSE log_tail || char(10) || ? END WHERE seq = ? AND status = 'running' RETURNING ${COLUMNS}`)
        .get(new Date().toISOString(), storableText(reason), line, line, retrainSeq(id) ?? -1) as RetrainRow | undefined;
      return row && toRetrain(row);
    });
  }

  get(id: string): Promise<RetrainRecord | undefined> {
    const seq = retrainSeq(id);
    if (seq === undefined) return Promise.resolve(undefined);
    return this.repository.onConnection((db) => {
      const row = db.prepare(`SELECT ${COLUMNS} FROM retrains WHERE seq = ?`).get(seq) as RetrainRow | undefined;
      return row && toRetrain(row);
    });
  }

  list(offset: number, limit: number): Promise<RetrainRecord[]> {
    return this.repository.onConnection((db) => (db.prepare(`SELECT ${COLUMNS} FROM retrains ORDER BY seq DESC LIMIT ? OFFSET ?`).all(limit, offset) as RetrainRow[]).map(toRetrain));
  }

  failRunning(reason: string): Promise<string[]> {
    return this.repository.onConnection((db) =>
      (db.prepare("UPDATE retrains SET status = 'failed', phase = 'failed', finished_at = ?, error = ? WHERE status = 'running' RETURNING seq").all(new Date().toISOString(), reason) as { seq: number }[]).map((r) => `r${r.seq}`),
    );
  }

  reviewCount(): Promise<number> {
    return this.repository.onConnection((db) => (db.prepare("SELECT COUNT(*) AS n FROM reviews").get() as { n: number }).n);
  }

  latestReviewsAtStart(): Promise<number | undefined> {
    return this.repository.onConnection((db) => (db.prepare("SELECT reviews_at_start AS n FROM retrains ORDER BY seq DESC LIMIT 1").get() as { n: number } | undefined)?.n);
  }
}
