// The server's side of `serve --queue`: a stored job becomes chunks on the BullMQ queue, which
// `nerkit worker` processes take, annotate and store; this process annotates nothing. Chunks are
// added by deterministic id (chunks.ts), so adding one twice is a no-op: after a restart, every
// unfinished job's chunks that still hold a pending document are simply added again, which puts
// back whatever Redis lost (a crash between storing the job and queuing it, a Redis without
// persistence) and leaves alone what it kept.
// The sweep does the same while the server runs, for the jobs left `running` with nothing on the
// queue to finish them: it asks BullMQ for the state of each chunk that still holds a pending
// document; a chunk Redis no longer knows (Redis restarted empty) is added again; a chunk that
// failed its last attempt marks its job failed with the chunk's error (the worker that should have
// marked it died, or could not write); a job whose chunks nobody takes (no worker connected, or
// none has taken the job yet) is said so in waiting(). A chunk held by a worker killed since is
// taken again by the next worker that connects (BullMQ's stalled-chunk check runs in workers).
// BullMQ's and Redis's own errors (a Redis that went away, each reconnect that fails) are written
// through onError, at most one line per 10 s with a count of those left out (rate-limited-log.ts).
// What it leaves out: progress and status, which the workers write to the database.

import { Queue } from "bullmq";
import { JobRepository, StorageUnavailableError } from "../storage/repository.js";
import { CHUNK_ATTEMPTS, CHUNK_BACKOFF, Chunk, QUEUE_NAME, RedisConnection, chunkId, chunksOf } from "./chunks.js";
import { JobDispatcher, Waiting } from "./job-dispatcher.js";
import { RateLimitedLog } from "./rate-limited-log.js";

/** Chunks per addBulk call, so a large job is not one huge Redis transaction. */
const ADD_BATCH = 500;
/** How long POST /v1/jobs waits for an unreachable Redis before answering 503; also a sweep's wait. */
const DISPATCH_TIMEOUT_MS = 5000;
/** At most one line about BullMQ's and Redis's errors per this long (rate-limited-log.ts). */
const ERROR_LOG_INTERVAL_MS = 10_000;
/** BullMQ states in which a chunk is still going to be (or being) processed. */
const LIVE_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

/** work, or a rejection after ms (BullMQ waits for an unreachable Redis for ever). */
async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function* chunkStarts(total: number, chunkSize: number): Generator<number> {
  for (let first = 0; first < total; first += chunkSize) yield first;
}

export class QueueDispatcher implements JobDispatcher {
  private readonly queue: Queue<Chunk>;
  /** Jobs the last sweep found standing still, and why. */
  private readonly stalled = new Map<string, Waiting>();
  private readonly errors: RateLimitedLog;

  constructor(
    private readonly repository: JobRepository,
    connection: RedisConnection,
    private readonly chunkSize: number,
    /** Sent with every chunk, so that workers route as this server does. */
    private readonly routing?: Pick<Chunk, "routing" | "precision">,
    /** A line about a BullMQ or Redis error, at most one per errorLogIntervalMs (with the count of those left out). */
    onError: (line: string) => void = () => undefined,
    errorLogIntervalMs = ERROR_LOG_INTERVAL_MS,
  ) {
    this.queue = new Queue<Chunk>(QUEUE_NAME, { connection });
    this.errors = new RateLimitedLog(onError, errorLogIntervalMs);
    // ioredis reconnects by itself, failing each attempt while Redis is down: logged, rate-limited.
    // The listener also keeps an unreachable Redis from crashing the process.
    this.queue.on("error", (error) => this.errors.report(`the job queue (Redis) failed: ${error.message}`));
  }

  /** BullMQ waits for Redis as long as it takes; a request does not: after a while it is answered 503,
   * and the chunks are still added once Redis answers (and again by a restart). */
  async dispatch(jobId: string): Promise<void> {
    const job = await this.repository.getJob(jobId);
    if (!job) return;
    const unavailable = (cause?: unknown) =>
      new StorageUnavailableError(`the job queue cannot be reached: job ${jobId} is stored, and is queued once Redis answers or the server restarts; GET /v1/jobs/${jobId} shows its progress`, { cause });
    const adding = this.add(chunksOf(jobId, job.total, this.chunkSize, chunkStarts(job.total, this.chunkSize)));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        adding.catch((error: unknown) => Promise.reject(unavailable(error))),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(unavailable()), DISPATCH_TIMEOUT_MS))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async resumeJobs(): Promise<string[]> {
    const ids = await this.repository.unfinishedJobs();
    for (const id of ids) {
      const job = await this.repository.getJob(id);
      const pending = await this.repository.pendingDocuments(id);
      // Every result was stored before a crash but the job was never marked done: recounting marks it.
      if (pending.length === 0) await this.repository.saveResults(id, []);
      else if (job) await this.add(chunksOf(id, job.total, this.chunkSize, pending.map((d) => d.seq)));
    }
    return ids;
  }

  async sweep(): Promise<void> {
    const ids = await this.repository.unfinishedJobs();
    for (const id of [...this.stalled.keys()]) if (!ids.includes(id)) this.stalled.delete(id);
    if (ids.length === 0) return;
    let workers: number;
    try {
      workers = (await within(DISPATCH_TIMEOUT_MS, this.queue.getWorkers(), "the job queue")).length;
    } catch (error) {
      for (const id of ids) this.stand(id, `the job queue (Redis) cannot be reached: ${(error as Error).message}`);
      throw error;
    }
    // One job's failure (its failure cannot be stored yet) does not keep the sweep from the others.
    let failure: { error: unknown } | undefined;
    for (const id of ids) await this.sweepJob(id, workers).catch((error: unknown) => (failure ??= { error }));
    if (failure) throw failure.error;
  }

  waiting(jobId: string): Waiting | undefined {
    return this.stalled.get(jobId);
  }

  private stand(jobId: string, reason: string, since?: string): void {
    const previous = this.stalled.get(jobId);
    this.stalled.set(jobId, { reason, since: previous?.reason === reason ? previous.since : (since ?? new Date().toISOString()) });
  }

  private async sweepJob(id: string, workers: number): Promise<void> {
    const job = await this.repository.getJob(id);
    if (!job || job.status === "done" || job.status === "failed") return;
    const pending = await this.repository.pendingDocuments(id);
    if (pending.length === 0) {
      await this.repository.saveResults(id, []);
      return;
    }
    const chunks = chunksOf(id, job.total, this.chunkSize, pending.map((d) => d.seq));
    const states = await within(DISPATCH_TIMEOUT_MS, Promise.all(chunks.map((c) => this.queue.getJobState(chunkId(c)))), "the job queue");
    const failed = chunks.find((_, i) => states[i] === "failed");
    if (failed) {
      const chunk = await this.queue.getJob(chunkId(failed));
      await this.repository.setStatus(id, "failed", chunk?.failedReason || `chunk ${chunkId(failed)} failed`);
      this.stalled.delete(id);
      return;
    }
    // A chunk is removed only once its results are stored, so one that Redis does not know while a
    // document of it is still pending was lost; or it is being added by dispatch (adding it again is
    // a no-op), or it completed after pending was read (a worker then finds nothing pending in it).
    const lost = chunks.filter((_, i) => !LIVE_STATES.has(states[i]));
    if (lost.length > 0) await within(DISPATCH_TIMEOUT_MS, this.add(lost), "the job queue");
    if (workers === 0) this.stand(id, job.status === "queued" ? "no worker has taken the job: none is connected to the queue" : "no worker is connected to the queue");
    else if (job.status === "queued") this.stand(id, "no worker has taken the job yet", job.createdAt);
    else this.stalled.delete(id);
  }

  /** Nothing runs in this process. */
  async idle(): Promise<void> {}

  async stop(): Promise<void> {
    await this.queue.close();
    this.errors.flush();
  }

  private async add(chunks: readonly Chunk[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += ADD_BATCH) {
      await this.queue.addBulk(
        chunks.slice(i, i + ADD_BATCH).map((chunk) => ({
          name: "chunk",
          data: this.routing ? { ...chunk, ...this.routing } : chunk,
          opts: { jobId: chunkId(chunk), attempts: CHUNK_ATTEMPTS, backoff: CHUNK_BACKOFF, removeOnComplete: true },
        })),
      );
    }
  }
}
