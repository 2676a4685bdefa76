// Runs batch jobs in the background: one job at a time, its pending documents cut into chunks,
// at most `concurrency` chunks in flight; each chunk's results are stored as soon as they come
// (so progress is visible and a crash loses at most the chunks in flight). resumeJobs() picks up
// the jobs a crash or a shutdown left queued or running, with their still-pending documents; the
// repository stores a result at most once, so a chunk annotated twice is not doubled.
// The sweep: a run that ends on a database that cannot be written (locked, read-only) leaves its job
// `running` with nothing working on it; sweep() queues every such job again, so it is picked up
// within one sweep interval of the database coming back (and waiting() says why it stands still
// meanwhile). A job whose annotation failed but whose failure could not be stored is not annotated
// again: the sweep stores the failure. Each run first writes the job's status, so a run on a database
// still unwritable fails before it annotates anything.
// A database that is unavailable for a while (storage-retry.ts) makes each storage call wait and
// try again, within a bound, with the chunk's results kept in memory, rather than fail the job; past
// the bound the error reaches the sweep as above.
// What it leaves out: priorities between jobs, cancelling a job, retrying a failed one.

import { DocumentResult, JobRepository, StorageUnavailableError } from "../storage/repository.js";
import { JobDispatcher, Waiting } from "./job-dispatcher.js";
import { isAudited } from "./audit-sample.js";
import { StorageRetryOptions, withStorageRetry } from "./storage-retry.js";

/** Annotates texts: one result (entities and a decision) per text, in order. */
export type Annotate = (texts: string[]) => Promise<Omit<DocumentResult, "seq">[]>;

export interface JobRunnerOptions {
  /** Texts per annotate call. */
  chunkSize: number;
  /** Annotate calls in flight for one job. */
  concurrency: number;
  /** Where errors that end a job are reported. */
  onError?: (jobId: string, error: unknown) => void;
  /** How storage calls that find the database unavailable are retried (the bound, and onRetry for reporting). */
  storageRetry?: Omit<StorageRetryOptions, "stopping">;
}

export class JobRunner implements JobDispatcher {
  private readonly queue: string[] = [];
  private active: Promise<void> | undefined;
  /** The job being run now. */
  private running: string | undefined;
  /** Jobs whose last run ended without finishing them, and why. */
  private readonly stalled = new Map<string, Waiting>();
  /** Jobs whose annotation failed and whose failure is not stored yet: the error message to store. */
  private readonly failing = new Map<string, string>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly repository: JobRepository,
    private readonly annotate: Annotate,
    private readonly options: JobRunnerOptions,
  ) {}

  async dispatch(jobId: string): Promise<void> {
    this.enqueue(jobId);
  }

  private enqueue(jobId: string): void {
    if (this.stopped || this.queue.includes(jobId) || this.running === jobId) return;
    this.queue.push(jobId);
    this.pump();
  }

  /** Queues the jobs left unfinished; answers their ids. */
  async resumeJobs(): Promise<string[]> {
    const ids = await this.repository.unfinishedJobs();
    for (const id of ids) this.enqueue(id);
    return ids;
  }

  async sweep(): Promise<void> {
    if (this.stopped) return;
    let unstored: { error: unknown } | undefined;
    for (const id of await this.repository.unfinishedJobs()) {
      if (id === this.running || this.queue.includes(id)) continue;
      const failure = this.failing.get(id);
      if (failure === undefined) {
        this.enqueue(id);
        continue;
      }
      try {
        await this.repository.setStatus(id, "failed", failure);
        this.failing.delete(id);
        this.stalled.delete(id);
      } catch (error) {
        // The database is still unwritable: the next sweep tries again; the other jobs are still looked at.
        unstored ??= { error };
      }
    }
    if (unstored) throw unstored.error;
  }

  waiting(jobId: string): Waiting | undefined {
    return this.stalled.get(jobId);
  }

  /** Resolves once no job is queued or running. */
  idle(): Promise<void> {
    if (!this.active && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more chunks; results that arrive after this are dropped (their documents stay pending). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await this.active;
  }

  private pump(): void {
    if (this.active || this.stopped) return;
    const jobId = this.queue.shift();
    if (jobId === undefined) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.running = jobId;
    this.active = this.process(jobId)
      .then(
        () => void this.stalled.delete(jobId),
        (error: unknown) => {
          const reason = this.failing.has(jobId) ? `the job failed (${this.failing.get(jobId)}) but the failure could not be stored` : "the job stopped";
          const message = error instanceof Error ? error.message : String(error);
          this.stalled.set(jobId, { reason: `${reason}: ${message}; the next sweep tries again`, since: this.stalled.get(jobId)?.since ?? new Date().toISOString() });
          this.options.onError?.(jobId, error);
        },
      )
      .finally(() => {
        this.active = undefined;
        this.running = undefined;
        this.pump();
      });
  }

  /**
   * fn, retried while the database is unavailable (within options.storageRetry's bound) unless this
   * runner is stopping; while it waits, waiting(jobId) says why the job stands still.
   */
  private retrying<T>(jobId: string, fn: () => Promise<T>): Promise<T> {
    const retry = this.options.storageRetry;
    return withStorageRetry(fn, {
      ...retry,
      stopping: () => this.stopped,
      onRetry: (error, delayMs, count) => {
        retry?.onRetry?.(error, delayMs, count);
        const failure = this.failing.get(jobId);
        const reason = failure === undefined ? `the database is unavailable: ${error.message}` : `the job failed (${failure}) but the failure could not be stored: ${error.message}`;
        this.stalled.set(jobId, { reason: `${reason}; retrying`, since: this.stalled.get(jobId)?.since ?? new Date().toISOString() });
      },
      onRetryEnd: () => {
        retry?.onRetryEnd?.();
        this.stalled.delete(jobId);
      },
    });
  }

  private async process(jobId: string): Promise<void> {
    // A sweep may queue a job that finished since it listed the unfinished ones.
    const job = await this.retrying(jobId, () => this.repository.getJob(jobId));
    if (!job || job.status === "done" || job.status === "failed") return;
    await this.retrying(jobId, () => this.repository.setStatus(jobId, "running"));
    const pending = await this.retrying(jobId, () => this.repository.pendingDocuments(jobId));
    const chunks: (typeof pending)[] = [];
    for (let i = 0; i < pending.length; i += this.options.chunkSize) chunks.push(pending.slice(i, i + this.options.chunkSize));
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (!this.stopped && !failure && next < chunks.length) {
        const chunk = chunks[next++];
        try {
          const results = await this.annotate(chunk.map((d) => d.text));
          if (results.length !== chunk.length) throw new Error(`annotate returned ${results.length} results for ${chunk.length} texts`);
          if (this.stopped) return;
          const documentResults = chunk.map((d, i) => ({ seq: d.seq, entities: results[i].entities, decision: results[i].decision, audit: isAudited(job.audit, jobId, d.seq, results[i].decision), informativeness: results[i].informativeness, modelVersion: results[i].modelVersion }));
          await this.retrying(jobId, () => this.repository.saveResults(jobId, documentResults));
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    if (this.stopped) return;
    if (failure) {
      // A storage error leaves the job to the sweep (pump reports it); an annotation error (the model's) is final.
      if (failure.error instanceof StorageUnavailableError) throw failure.error;
      this.options.onError?.(jobId, failure.error);
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      this.failing.set(jobId, message);
      await this.retrying(jobId, () => this.repository.setStatus(jobId, "failed", message));
      this.failing.delete(jobId);
    } else if (pending.length === 0) {
      // Every result was stored before a crash but the job was never marked done.
      await this.retrying(jobId, () => this.repository.saveResults(jobId, []));
    }
  }
}
