// Where retrain jobs live (issue 12 §3): one row per retrain, its status, progress, the tail of its
// log, and what it made (the candidate version and the gate's record). At most one retrain runs at
// a time, which the database itself keeps (a unique index over running rows), so two requests or
// two servers cannot start two. Ids are "r1", "r2", ... in the order retrains started. The rows
// share the job database's connection (sqlite-retrains.ts, postgres-retrains.ts, opened by
// open-retrains.ts); the schema is migration 6 of each database (retrains-schema.ts), with the
// status 'cancelled', promotion_refused and queued added by migration 7 (retrains-schema-7.ts).
// A retrain ends once: finish() and cancel() change only a running row, so a run that ends after
// its retrain was cancelled (or failed by a sweep) leaves the row as it is.
// What it leaves out: the retrain itself (serve/retrain/).

import type { GateRecord } from "../models/registry.js";

export type RetrainStatus = "running" | "done" | "failed" | "cancelled";

export interface RetrainRecord {
  id: string;
  status: RetrainStatus;
  /** ISO 8601. */
  createdAt: string;
  finishedAt?: string;
  /** In [0, 1]. */
  progress: number;
  /** What the retrain is doing (serve/retrain/run.ts's phases), or "done"/"failed". */
  phase: string;
  /** The last lines of its log, oldest first. */
  log: string[];
  /** The candidate version it made. */
  candidate?: string;
  gate?: GateRecord;
  /** Whether the candidate was promoted. */
  promoted?: boolean;
  /** Why a candidate the gate would promote was not: the registry refused the promotion (done rows only). */
  promotionRefused?: string;
  /** Why it failed, or why it was cancelled. */
  error?: string;
  /** Handed to the retrain queue (serve --queue): a `nerkit worker --retrain` runs it. */
  queued: boolean;
  /** Reviews stored when it started (for serve --retrain-after). */
  reviewsAtStart: number;
}

export type RetrainEnd = { status: "done"; candidate: string; gate: GateRecord; promoted: boolean; promotionRefused?: string } | { status: "failed"; error: string };

export interface RetrainStore {
  /** A new running retrain (queued: handed to the retrain queue), or undefined when one is running already. */
  start(reviewsAtStart: number, queued?: boolean): Promise<RetrainRecord | undefined>;
  progress(id: string, progress: number, phase: string, log: readonly string[]): Promise<void>;
  /** Records the end of a running retrain; a row no longer running is left as it is. */
  finish(id: string, end: RetrainEnd, log: readonly string[]): Promise<void>;
  /** Marks a running retrain cancelled (reason in its error, a last log line); the row as it is now, or undefined when it was not running (or does not exist). */
  cancel(id: string, reason: string): Promise<RetrainRecord | undefined>;
  get(id: string): Promise<RetrainRecord | undefined>;
  /** Newest first, from the offset-th, at most limit. */
  list(offset: number, limit: number): Promise<RetrainRecord[]>;
  /** Marks retrains left running (by a process that stopped) failed with the reason; their ids. */
  failRunning(reason: string): Promise<string[]>;
  /** Reviews stored now (a reviewer replacing their review counts once). */
  reviewCount(): Promise<number>;
  /** reviewsAtStart of the latest retrain, or undefined before the first. */
  latestReviewsAtStart(): Promise<number | undefined>;
}

/** The row both databases' queries return (PostgreSQL's cast to the same text). */
export interface RetrainRow {
  seq: number | string;
  status: RetrainStatus;
  created_at: string;
  finished_at: string | null;
  progress: number;
  phase: string;
  log_tail: string;
  candidate: string | null;
  gate: string | null;
  promoted: number | boolean | null;
  error: string | null;
  reviews_at_start: number | string;
  promotion_refused: string | null;
  queued: number | boolean;
}

export function toRetrain(row: RetrainRow): RetrainRecord {
  return {
    id: `r${row.seq}`,
    status: row.status,
    createdAt: row.created_at,
    ...(row.finished_at !== null ? { finishedAt: row.finished_at } : {}),
    progress: Number(row.progress),
    phase: row.phase,
    log: row.log_tail === "" ? [] : row.log_tail.split("\n"),
    ...(row.candidate !== null ? { candidate: row.candidate } : {}),
    ...(row.gate !== null ? { gate: JSON.parse(row.gate) as GateRecord } : {}),
    ...(row.promoted !== null ? { promoted: Boolean(row.promoted) } : {}),
    ...(row.promotion_refused !== null ? { promotionRefused: row.promotion_refused } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    reviewsAtStart: Number(row.reviews_at_start),
    queued: Boolean(row.queued),
  };
}

/** The row number of an id "rN", or undefined for anything else. */
export function retrainSeq(id: string): number | undefined {
  const match = /^r([1-9]\d{0,14})$/.exec(id);
  return match ? Number(match[1]) : undefined;
}

/** Log lines as one column (newlines inside a line become spaces). */
export function logColumn(log: readonly string[]): string {
  return log.map((line) => line.replace(/[\r\n]+/g, " ")).join("\n");
}

