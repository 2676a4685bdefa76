// The SQL of the review order (serve/review/queue-order.ts), shared by SQLite and PostgreSQL: migration
// 5 (each result's informativeness) and the ORDER BY of the review queue in each mode. The clauses are
// the same text on both databases but for the job order's tiebreak (SQLite's rowid, PostgreSQL's pos)
// and the name of the MD5 function (PostgreSQL's md5; SQLite has none, so sqlite.ts registers
// nerkit_md5 on its connection, the same hex digest): a seeded shuffle is then the same on both.
// What it leaves out: the diversity step, which needs the texts (serve/review/diverse-order.ts).

import { Migration } from "./migrations.js";
import { ReviewOrder } from "./repository.js";

export const SQLITE_MIGRATION_5: Migration = { version: 5, sql: "ALTER TABLE results ADD COLUMN informativeness REAL;" };
export const POSTGRES_MIGRATION_5: Migration = { version: 5, sql: "ALTER TABLE results ADD COLUMN informativeness double precision;" };

/** What differs between the databases: the job order's columns ("j.created_at, j.rowid, r.seq") and the MD5 function's name. */
export interface OrderDialect {
  jobOrder: string;
  md5: string;
}

/**
 * The ORDER BY of the review queue:
 * - fifo: job order (oldest job first, then document order), the queue's order before there was a choice;
 * - uncertainty: audit documents first, in job order; then the most informative first (results stored
 *   before informativeness was measured last), ties in job order;
 * - random: audit documents first, in job order; then by MD5 of "seed:job:seq", a shuffle that a
 *   review or a new job never reorders (each document's place depends on itself and the seed only).
 * Audit documents are never reordered by the model's scores: the audit sample estimates the precision
 * of what is accepted without review, and only a sample reviewed in full, whatever the model thought
 * of it, is unbiased; it is a small share of the accepted (serve --audit-rate), so first costs little.
 */
export function reviewOrderBy(order: ReviewOrder, dialect: OrderDialect): string {
  if (order.mode === "fifo") return `ORDER BY ${dialect.jobOrder}`;
  if (order.mode === "uncertainty") return `ORDER BY r.audit DESC, CASE WHEN r.audit THEN NULL ELSE r.informativeness END DESC NULLS LAST, ${dialect.jobOrder}`;
  if (!Number.isSafeInteger(order.seed)) throw new Error(`a review order seed must be an integer, got ${order.seed}`);
  return `ORDER BY r.audit DESC, CASE WHEN r.audit THEN '' ELSE ${dialect.md5}('${order.seed}:' || r.job_id || ':' || CAST(r.seq AS text)) END, ${dialect.jobOrder}`;
}
