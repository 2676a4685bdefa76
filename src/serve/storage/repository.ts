// Where batch jobs live: a job, its documents (one per JSONL line, numbered by seq from 0) and
// one result per document. The methods are async so that a PostgreSQL implementation (a pool,
// network round trips) can follow the SQLite one (sqlite.ts) behind the same interface.
// Reviews (a person's verdict on one stored result) live beside the results they judge.
// Jobs are listed newest first, deleted whole (documents, results and reviews with them) once
// finished, and reviewed results are read a page at a time (keyset, job then document order), so
// that an export of any size holds one page in memory.
// What it leaves out: per-user ownership.

import type { ModelVersionStore } from "./model-versions.js";

export type JobStatus = "queued" | "running" | "done" | "failed";

export const REVIEW_ORDERS = ["uncertainty", "random", "fifo"] as const;
export type ReviewOrderMode = (typeof REVIEW_ORDERS)[number];

/** The review queue's order (storage/review-order-sql.ts); seed: the random mode's shuffle. */
export interface ReviewOrder {
  mode: ReviewOrderMode;
  seed?: number;
}

/** How a job draws its audit sample (jobs/audit-sample.ts); recorded with the job. */
export interface AuditSettings {
  /** The probability that an auto-accepted document is audited, in [0, 1]. */
  rate: number;
  seed: number;
}

export interface Job {
  id: string;
  createdAt: string;
  status: JobStatus;
  total: number;
  done: number;
  error?: string;
  /** How the job draws its audit sample (jobs/audit-sample.ts); absent for jobs stored before audits existed. */
  audit?: AuditSettings;
}

export interface NewDocument {
  /** The caller's id for the document, if it gave one. */
  docId?: string;
  text: string;
}

export interface PendingDocument {
  seq: number;
  text: string;
}

/** Documents first..last of a job, both included. */
export interface SeqRange {
  first: number;
  last: number;
}

export interface DocumentResult {
  seq: number;
  entities: unknown[];
  decision: string;
  /** An auto-accepted document drawn for the audit sample: it enters the review queue too. */
  audit?: boolean;
  /** How much reviewing it would teach the model (metrics/informativeness.ts); absent when not measured. */
  informativeness?: number;
  /** The model version (serve/models/) that produced the result; absent when the service runs without a registry. */
  modelVersion?: string;
}

export interface StoredResult extends DocumentResult {
  docId?: string;
  text: string;
}

export type ReviewAction = "accept" | "correct" | "reject";

/** A stored result with the job it belongs to. */
export interface JobResult extends StoredResult {
  jobId: string;
}

export interface NewReview {
  jobId: string;
  seq: number;
  reviewer: string;
  action: ReviewAction;
  /** The reviewer's spans, for action correct only. */
  spans?: readonly unknown[];
}

export interface StoredReview {
  reviewer: string;
  action: ReviewAction;
  spans?: unknown[];
  createdAt: string;
  /** The model version whose result was reviewed, when known. */
  modelVersion?: string;
}

export interface ReviewedResult extends JobResult {
  /** Oldest first. */
  reviews: StoredReview[];
}

/** A page of reviewed results and, when more may follow, the cursor of the next page (opaque). */
export interface ReviewedPage {
  results: ReviewedResult[];
  next?: string;
}

/** What deleteJob did: deleted, found no such job, or left a queued or running job alone. */
export type DeleteOutcome = "deleted" | "not-found" | "unfinished";

export interface JobRepository {
  /** Stores the job (status queued) and all its documents (pending) in one transaction. Texts are stored
   * with NUL and lone surrogates replaced by U+FFFD (rows.ts: storableText), as are strings in entities and spans. */
  createJob(documents: readonly NewDocument[], audit?: AuditSettings): Promise<Job>;
  getJob(id: string): Promise<Job | undefined>;
  /** Jobs left queued or running (by a crash or a shutdown), oldest first. */
  unfinishedJobs(): Promise<string[]>;
  /** Documents of the job that have no result yet, in seq order; with a range, only those within it
   * (a `nerkit worker`'s chunk). */
  pendingDocuments(jobId: string, range?: SeqRange): Promise<PendingDocument[]>;
  setStatus(jobId: string, status: JobStatus, error?: string): Promise<void>;
  /** Stores each result at most once (a second one for the same seq is ignored), marks its
   * document done and updates the job's progress; the job becomes done with its last document. */
  saveResults(jobId: string, results: readonly DocumentResult[]): Promise<void>;
  /** Results in seq order, from the offset-th, at most limit. */
  results(jobId: string, offset: number, limit: number): Promise<StoredResult[]>;
  /** One stored result, or undefined. */
  result(jobId: string, seq: number): Promise<JobResult | undefined>;
  /** Results whose document decision is "review", or drawn for the audit sample, and that no one has
   * reviewed, in `order` (fifo, oldest job first, when not given). */
  reviewQueue(offset: number, limit: number, order?: ReviewOrder): Promise<JobResult[]>;
  /** Stores a review in a transaction; the same reviewer reviewing again replaces their review. */
  saveReview(review: NewReview): Promise<void>;
  /** Every result with at least one review, each with its reviews oldest first. */
  reviewedResults(): Promise<ReviewedResult[]>;
  /** Reviewed results in the order of reviewedResults, at most limit, after the page whose `next` is
   * `after` (from the first when undefined). A review saved while pages are read shows in a later
   * page or not at all, never twice; a page of fewer than limit may still have a next. */
  reviewedResultsPage(after: string | undefined, limit: number): Promise<ReviewedPage>;
  /** Jobs newest first (ties: the later created first), from the offset-th, at most limit. */
  listJobs(offset: number, limit: number): Promise<Job[]>;
  /** Deletes a done or failed job with its documents, results and reviews, in one transaction. */
  deleteJob(id: string): Promise<DeleteOutcome>;
  /** Done or failed jobs created before `before` (an ISO 8601 time), oldest first, at most limit. */
  finishedJobsBefore(before: string, limit: number): Promise<string[]>;
  /** The model registry's rows in this database (storage/model-versions.ts); absent in test doubles. */
  models?(): ModelVersionStore;
  close(): Promise<void>;
}

/** The database cannot be opened or written now (locked, read-only, missing folder, server unreachable): the service answers 503. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}
