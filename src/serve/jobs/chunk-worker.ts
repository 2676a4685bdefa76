// The worker's side of the queue: a BullMQ Worker that takes chunks (chunks.ts), annotates the
// chunk's documents that are still pending and stores their results. Delivery is at least once (a
// worker killed mid-chunk loses its lock, and another takes the chunk again once the lock has
// expired); that is safe because only pending documents are read and saveResults stores a result
// at most once per (job, seq).
// Status: the first chunk of a job marks it running; saveResults marks it done with its last
// document, and every chunk ends with a saveResults, even an empty one, so a chunk that set
// running late cannot leave a finished job running. A chunk that fails its last attempt (or stalls
// more often than allowed) marks its job failed with the error; the job's other chunks are skipped.
// BullMQ's and Redis's own errors (a Redis that went away) are written through onError, at most one
// line per ERROR_LOG_INTERVAL_MS with a count of those left out (rate-limited-log.ts).
// A database that is unavailable for a while does not use up the chunk's attempts: each storage
// call waits and tries again (storage-retry.ts), the chunk's results kept in memory.
// What it leaves out: loading the model and stopping (src/serve/worker.ts), signals (the CLI).

import { Job as QueueJob, Worker } from "bullmq";
import { JobRepository } from "../storage/repository.js";
import { Chunk, QUEUE_NAME, RedisConnection } from "./chunks.js";
import { Annotate } from "./runner.js";
import { isAudited } from "./audit-sample.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import { StorageRetryOptions, withStorageRetry } from "./storage-retry.js";

/** Annotates and stores a chunk's pending documents; answers how many it stored. */
export async function processChunk(repository: JobRepository, annotate: Annotate, chunk: Chunk, storageRetry: StorageRetryOptions = {}): Promise<number> {
  const retrying = <T>(fn: () => Promise<T>) => withStorageRetry(fn, storageRetry);
  const job = await retrying(() => repository.getJob(chunk.jobId));
  if (!job) throw new Error(`no job ${chunk.jobId} in the database: do the server and the worker use the same --db?`);
  if (job.status === "done" || job.status === "failed") return 0;
  if (job.status === "queued") await retrying(() => repository.setStatus(chunk.jobId, "running"));
  const pending = await retrying(() => repository.pendingDocuments(chunk.jobId, chunk));
  const results = pending.length > 0 ? await annotate(pending.map((d) => d.text)) : [];
  if (results.length !== pending.length) throw new Error(`annotate returned ${results.length} results for ${pending.length} texts`);
  // The audit draw reads the job's recorded settings, so every worker draws as the server would.
  const documentResults = pending.map((d, i) => ({ seq: d.seq, entities: results[i].entities, decision: results[i].decision, audit: isAudited(job.audit, chunk.jobId, d.seq, results[i].decision), informativeness: results[i].informativeness, modelVersion: results[i].modelVersion }));
  await retrying(() => repository.saveResults(chunk.jobId, documentResults));
  return pending.length;
}

export interface ChunkWorkerOptions {
  connection: RedisConnection;
  /** Stored on each chunk it takes (BullMQ's processedBy), to tell which worker held what. */
  name?: string;
  /** Chunks in flight in this process. */
  concurrency: number;
  /** How long a chunk stays locked without a renewal: a killed worker's chunk is taken again after about this long. */
  lockDurationMs?: number;
  /** How often this worker looks for chunks whose lock expired. */
  stalledIntervalMs?: number;
  /** A chunk attempt failed; final: no attempt is left and the job was marked failed. */
  onFailure?: (chunk: Chunk, error: Error, final: boolean) => void;
  /** A line about a BullMQ or Redis error (rate-limited); without it they are dropped. */
  onError?: (line: string) => void;
  /** At most one error line per this many milliseconds. */
  errorLogIntervalMs?: number;
  /** How storage calls that find the database unavailable are retried (the bound, and onRetry for reporting). */
  storageRetry?: Omit<StorageRetryOptions, "stopping">;
}

/** How long a close waits, once this process's chunks are stored, for Redis to take their completion. */
const CLOSE_GRACE_MS = 5000;
/** How long a close waits for BullMQ when Redis is down already (it would wait for a reconnect forever). */
const CLOSE_WITHOUT_REDIS_MS = 500;
const ERROR_LOG_INTERVAL_MS = 10_000;

/** Whether promise settles within ms. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class ChunkWorker {
  private readonly worker: Worker<Chunk, number>;
  private readonly inFlight = new Set<Promise<number>>();
  private readonly marking = new Set<Promise<void>>();
  private connected = false;
  private readonly errors: RateLimitedLog;
  private closing = false;

  constructor(
    private readonly repository: JobRepository,
    /** How a chunk is annotated (its routing comes with the chunk). */
    annotateFor: (chunk: Chunk) => Annotate,
    private readonly options: ChunkWorkerOptions,
  ) {
    this.worker = new Worker<Chunk, number>(QUEUE_NAME, (job) => this.track(processChunk(repository, annotateFor(job.data), job.data, { ...options.storageRetry, stopping: () => this.closing })), {
      connection: options.connection,
      name: options.name,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      // A chunk whose worker dies twice is more likely to kill the next one than to succeed.
      maxStalledCount: 2,
    });
    this.worker.on("failed", (job, error) => job && this.failed(job, error));
    // ioredis reconnects by itself; the listener also keeps an unreachable Redis from crashing the process.
    this.errors = new RateLimitedLog((line) => options.onError?.(line), options.errorLogIntervalMs ?? ERROR_LOG_INTERVAL_MS);
    this.worker.on("error", (error) => this.errors.report(`queue error: ${error.message}`));
    this.worker.waitUntilReady().then(() => (this.connected = true), () => undefined);
  }

  /** Resolves once the worker is connected and taking chunks. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Takes no more chunks, waits for those in progress to be stored, and disconnects. BullMQ's own
   * close waits for Redis as long as it takes; with Redis gone, this one gives up after a grace
   * period (at once when Redis is down already) and drops the connections, which would otherwise
   * keep reconnecting and the process alive: the chunks' results are stored already, and a chunk
   * whose completion Redis never heard of is taken again and finds nothing pending. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.connected) {
      await this.worker.close(true);
      this.errors.flush();
      return;
    }
    const redisUp = (await this.redisClients()).every((client) => client.status === "ready");
    // Forced: BullMQ waits for no job (this close waits for its own chunks) and quits no connection (it disconnects).
    const closing = this.worker.close(!redisUp);
    await Promise.allSettled(this.inFlight);
    if (!(await settlesWithin(closing, redisUp ? CLOSE_GRACE_MS : CLOSE_WITHOUT_REDIS_MS))) {
      for (const client of await this.redisClients()) client.disconnect();
    }
    await Promise.all(this.marking);
    this.errors.flush();
  }

  /** BullMQ's connections to Redis (its ordinary one and the one that blocks waiting for chunks). */
  private async redisClients(): Promise<{ status: string; disconnect(): void }[]> {
    const backend = this.worker.getBackend();
    return Promise.all([backend.client, ...(backend.blockingClient ? [backend.blockingClient] : [])]);
  }

  private track(processing: Promise<number>): Promise<number> {
    this.inFlight.add(processing);
    void processing.finally(() => this.inFlight.delete(processing)).catch(() => undefined);
    return processing;
  }

  private failed(job: QueueJob<Chunk, number>, error: Error): void {
    // BullMQ has counted this attempt already; an UnrecoverableError (a chunk that stalled too often) is never retried.
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === "UnrecoverableError";
    if (!final) {
      this.options.onFailure?.(job.data, error, false);
      return;
    }
    const marked = this.repository
      .setStatus(job.data.jobId, "failed", error.message)
      .then(
        () => this.options.onFailure?.(job.data, error, true),
        (markError: unknown) => this.options.onFailure?.(job.data, new Error(`${error.message}; marking the job failed failed too: ${(markError as Error).message}`), true),
      )
      .finally(() => this.marking.delete(marked));
    this.marking.add(marked);
  }
}
