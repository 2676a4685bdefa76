// The server's side of `serve --queue`: a stored job becomes chunks on the BullMQ queue, which
// `nerkit worker` processes take, annotate and store; this process annotates nothing. Chunks are
// added by deterministic id (chunks.ts), so adding one twice is a no-op: after a restart, every
// unfinished job's chunks that still hold a pending document are simply added again, which puts
// back whatever Redis lost (a crash between storing the job and queuing it, a Redis without
// persistence) and leaves alone what it kept.
// What it leaves out: progress and status, which the workers write to the database.

import { Queue } from "bullmq";
import { JobRepository, StorageUnavailableError } from "../storage/repository.js";
import { RoutingOptions } from "../../postprocess/routing.js";
import { CHUNK_ATTEMPTS, CHUNK_BACKOFF, Chunk, QUEUE_NAME, RedisConnection, chunkId, chunksOf } from "./chunks.js";
import { JobDispatcher } from "./job-dispatcher.js";

/** Chunks per addBulk call, so a large job is not one huge Redis transaction. */
const ADD_BATCH = 500;
/** How long POST /v1/jobs waits for an unreachable Redis before answering 503. */
const DISPATCH_TIMEOUT_MS = 5000;

function* chunkStarts(total: number, chunkSize: number): Generator<number> {
  for (let first = 0; first < total; first += chunkSize) yield first;
}

export class QueueDispatcher implements JobDispatcher {
  private readonly queue: Queue<Chunk>;

  constructor(
    private readonly repository: JobRepository,
    connection: RedisConnection,
    private readonly chunkSize: number,
    /** Sent with every chunk, so that workers route as this server does. */
    private readonly routing?: RoutingOptions,
  ) {
    this.queue = new Queue<Chunk>(QUEUE_NAME, { connection });
    // ioredis reconnects by itself; without a listener an unreachable Redis would crash the process.
    this.queue.on("error", () => undefined);
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

  /** Nothing runs in this process. */
  async idle(): Promise<void> {}

  async stop(): Promise<void> {
    await this.queue.close();
  }

  private async add(chunks: readonly Chunk[]): Promise<void> {
    for (let i = 0; i < chunks.length; i += ADD_BATCH) {
      await this.queue.addBulk(
        chunks.slice(i, i + ADD_BATCH).map((chunk) => ({
          name: "chunk",
          data: this.routing ? { ...chunk, routing: this.routing } : chunk,
          opts: { jobId: chunkId(chunk), attempts: CHUNK_ATTEMPTS, backoff: CHUNK_BACKOFF, removeOnComplete: true },
        })),
      );
    }
  }
}
