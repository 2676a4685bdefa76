// Retrain jobs (retrains.ts) on PostgreSQL, on the job repository's pool (migration 6's table:
// retrains-schema.ts), answering the objects SQLite's do (times cast to the same ISO text). A second
// running row is refused by the partial unique index (ON CONFLICT DO NOTHING inserts nothing).

import type { PostgresJobRepository } from "./postgres.js";
import { RetrainEnd, RetrainRecord, RetrainRow, RetrainStore, logColumn, retrainSeq, toRetrain } from "./retrains.js";

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const COLUMNS = `seq::text AS seq, status, ${iso("created_at")} AS created_at, ${iso("finished_at")} AS finished_at, progress, phase, log_tail, candidate, gate::text AS gate, promoted, error, reviews_at_start::text AS reviews_at_start, promotion_refused, queued`;

export class PostgresRetrainStore implements RetrainStore {
  constructor(private readonly repository: PostgresJobRepository) {}

  async start(reviewsAtStart: number, queued = false): Promise<RetrainRecord | undefined> {
    const rows = await this.repository.sharedQuery<RetrainRow>(
      // Checked before inserting, so that a refused start takes no id from the sequence; the index
      // still refuses the second of two starts at the same moment.
      `INSERT INTO retrains (status, created_at, phase, reviews_at_start, queued) SELECT 'running', $1::timestamptz, 'queued', $2::bigint, $3::boolean
       WHERE NOT EXISTS (SELECT 1 FROM retrains WHERE status = 'running') ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [new Date().toISOString(), reviewsAtStart, queued],
    );
    return rows[0] && toRetrain(rows[0]);
  }

  async progress(id: string, progress: number, phase: string, log: readonly string[]): Promise<void> {
    await this.repository.sharedQuery("UPDATE retrains SET progress = $1, phase = $2, log_tail = $3 WHERE seq = $4 AND status = 'running'", [progress, phase, logColumn(log), retrainSeq(id) ?? -1]);
  }

  async finish(id: string, end: RetrainEnd, log: readonly string[]): Promise<void> {
    const done = end.status === "done";
    await this.repository.sharedQuery(
      "UPDATE retrains SET status = $1, finished_at = $2, progress = $3, phase = $1, log_tail = $4, candidate = $5, gate = $6::json, promoted = $7, error = $8, promotion_refused = $9 WHERE seq = $10 AND status = 'running'",
      [end.status, new Date().toISOString(), done ? 1 : 0, logColumn(log), done ? end.candidate : null, done ? JSON.stringify(end.gate) : null, done ? end.promoted : null, done ? null : end.error, done ? (end.promotionRefused ?? null) : null, retrainSeq(id) ?? -1],
    );
  }

  async cancel(id: string, reason: string): Promise<RetrainRecord | undefined> {
    const line = `cancelled: ${reason}`.replace(/[\r\n]+/g, " ");
    const rows = await this.repository.sharedQuery<RetrainRow>(
      `UPDATE retrains SET status = 'cancelled', phase = 'cancelled', finished_at = $1, error = $2, log_tail = CASE WHEN log_tail = '' THEN $3::text ELSE log_tail || E'\\n' || $3::text END
       WHERE seq = $4 AND status = 'running' RETURNING ${COLUMNS}`,
      [new Date().toISOString(), reason, line, retrainSeq(id) ?? -1],
    );
    return rows[0] && toRetrain(rows[0]);
  }

  async get(id: string): Promise<RetrainRecord | undefined> {
    const seq = retrainSeq(id);
    if (seq === undefined) return undefined;
    const rows = await this.repository.sharedQuery<RetrainRow>(`SELECT ${COLUMNS} FROM retrains WHERE seq = $1`, [seq]);
    return rows[0] && toRetrain(rows[0]);
  }

  async list(offset: number, limit: number): Promise<RetrainRecord[]> {
    return (await this.repository.sharedQuery<RetrainRow>(`SELECT ${COLUMNS} FROM retrains ORDER BY seq DESC LIMIT $1 OFFSET $2`, [limit, offset])).map(toRetrain);
  }

  async failRunning(reason: string): Promise<string[]> {
    const rows = await this.repository.sharedQuery<{ seq: string }>("UPDATE retrains SET status = 'failed', phase = 'failed', finished_at = $1, error = $2 WHERE status = 'running' RETURNING seq::text AS seq", [new Date().toISOString(), reason]);
    return rows.map((r) => `r${r.seq}`);
  }

  async reviewCount(): Promise<number> {
    return Number((await this.repository.sharedQuery<{ n: string }>("SELECT COUNT(*)::text AS n FROM reviews"))[0].n);
  }

  async latestReviewsAtStart(): Promise<number | undefined> {
    const row = (await this.repository.sharedQuery<{ n: string }>("SELECT reviews_at_start::text AS n FROM retrains ORDER BY seq DESC LIMIT 1"))[0];
    return row && Number(row.n);
  }
}
