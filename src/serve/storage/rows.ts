// What the SQL implementations of the job repository share: the row shapes their queries return
// (PostgreSQL's queries cast to the same text columns SQLite stores) and their mapping to the
// repository's objects, and how a value is made storable before it is written.
// What it leaves out: SQL itself, which differs between the databases.

import { Job, JobResult, JobStatus, ReviewAction, ReviewedResult, StoredResult, StoredReview } from "./repository.js";

export interface JobRow {
  id: string;
  /** ISO 8601, UTC, milliseconds: what `Date.toISOString()` writes. */
  created_at: string;
  status: JobStatus;
  total: number;
  done_count: number;
  error: string | null;
  audit_rate: number | null;
  /** PostgreSQL's bigint comes as text. */
  audit_seed: number | string | null;
}

export interface ResultRow {
  job_id: string;
  seq: number;
  doc_id: string | null;
  text: string;
  /** JSON text. */
  entities: string;
  decision: string;
  /** SQLite's 0 or 1, PostgreSQL's boolean. */
  audit: number | boolean;
  /** Null when not measured (results stored before migration 5, or by a pipeline that does not report it). */
  informativeness: number | null;
  /** The model version that produced the result; null when stored without a registry. */
  model_version: string | null;
}

export interface ReviewRow {
  job_id: string;
  seq: number;
  reviewer: string;
  action: ReviewAction;
  /** JSON text, or null when the review has no spans. */
  spans: string | null;
  created_at: string;
  /** The model version of the result reviewed, when known. */
  model_version: string | null;
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    createdAt: row.created_at,
    status: row.status,
    total: row.total,
    done: row.done_count,
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.audit_rate !== null && row.audit_seed !== null ? { audit: { rate: row.audit_rate, seed: Number(row.audit_seed) } } : {}),
  };
}

export function toStoredResult(row: Omit<ResultRow, "job_id">): StoredResult {
  // audit only when drawn: results of jobs without an audit read as before.
  return {
    seq: row.seq,
    ...(row.doc_id !== null ? { docId: row.doc_id } : {}),
    text: row.text,
    entities: JSON.parse(row.entities) as unknown[],
    decision: row.decision,
    ...(row.audit ? { audit: true } : {}),
    ...(row.informativeness !== null && row.informativeness !== undefined ? { informativeness: row.informativeness } : {}),
    ...(row.model_version !== null && row.model_version !== undefined ? { modelVersion: row.model_version } : {}),
  };
}

export function toResult(row: ResultRow): JobResult {
  return { jobId: row.job_id, ...toStoredResult(row) };
}

/** Results (in their order) each with its reviews (in theirs); reviews of other results are ignored. */
export function withReviews(results: readonly ResultRow[], reviews: readonly ReviewRow[]): ReviewedResult[] {
  const byResult = new Map<string, StoredReview[]>();
  for (const v of reviews) {
    const key = `${v.job_id}:${v.seq}`;
    if (!byResult.has(key)) byResult.set(key, []);
    byResult.get(key)!.push({ reviewer: v.reviewer, action: v.action, ...(v.spans !== null ? { spans: JSON.parse(v.spans) as unknown[] } : {}), createdAt: v.created_at, ...(v.model_version !== null ? { modelVersion: v.model_version } : {}) });
  }
  return results.map((row) => ({ ...toResult(row), reviews: byResult.get(`${row.job_id}:${row.seq}`) ?? [] }));
}

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The text with NUL and lone surrogates replaced by U+FFFD, one unit for one, so that offsets into
 * the caller's text still hold. PostgreSQL cannot store either (in text or in JSONB), and SQLite
 * would read a lone surrogate back as three U+FFFD; both databases store this instead.
 */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, "\uFFFD");
}

/** JSON text of value, every string in it made storable (object keys are left as they are). */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? storableText(v) : v));
}

/** Where a page of reviewed results ended: the job (its creation time and insertion position, the
 * keys of job order) and the last seq read in it. */
export interface PageCursor {
  createdAt: string;
  /** SQLite's rowid or PostgreSQL's pos, as text. */
  pos: string;
  jobId: string;
  seq: number;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.pos, cursor.jobId, cursor.seq])).toString("base64url");
}

/** The cursor encodeCursor wrote; throws on anything else (cursors never come from a request). */
export function decodeCursor(text: string): PageCursor {
  const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown;
  if (!Array.isArray(value) || value.length !== 4 || typeof value[0] !== "string" || typeof value[1] !== "string" || typeof value[2] !== "string" || !Number.isInteger(value[3])) {
    throw new Error(`not a page cursor: ${text}`);
  }
  return { createdAt: value[0], pos: value[1], jobId: value[2], seq: value[3] as number };
}
