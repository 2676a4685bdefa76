// The server's side of retrains with `serve --queue`: the retrain's row is started here (service.ts)
// and its job added to the retrain queue, which only `nerkit worker --retrain` processes take; the
// worker runs it and writes the row (retrain-worker.ts). The server trains nothing.
// A worker killed mid-retrain: the row must not stay "running" for ever. The job has one attempt and
// BullMQ fails it when it stalls (maxStalledCount 0 in the worker), which another retrain worker's
// stalled check notices after the lock expires and records on the row. With no other retrain worker
// connected nothing would notice, so the server's sweep (every few seconds while a row runs) asks
// BullMQ for the job's state: failed → the row failed with BullMQ's reason; active while no retrain
// worker is connected, on two sweeps in a row (one reconnect is not a death) → the row failed,
// "the worker running it stopped". A failed retrain is never run again by itself: the user starts
// another (a trainer that was killed, by the OOM killer say, would likely be killed again).
// A queued row whose job is gone from the queue (Redis flushed, or restarted without persistence,
// or the job removed by hand) would otherwise run for ever: on two sweeps in a row (the first may
// fall between the row's start and the job's add) the row is failed, saying so; a worker still
// running it sees the row failed and stops its trainer (recorded-run.ts). A row not queued is left
// alone: `nerkit retrain` runs its own, outside the queue.
// Cancelling (POST /v1/retrain/:id/cancel) removes a job that still waits; an active one is the
// worker's to stop, which it does on seeing its row cancelled.
// BullMQ's and Redis's errors are written through onError, rate-limited as the chunk dispatcher's.
// What it leaves out: running anything; progress, which the worker writes.

import { Queue } from "bullmq";
import { RedisConnection } from "../jobs/chunks.js";
import { RateLimitedLog } from "../jobs/rate-limited-log.js";
import { RetrainRecord, RetrainStore } from "../storage/retrains.js";
import { RETRAIN_QUEUE_NAME, RetrainJob, retrainJobId } from "./retrain-jobs.js";
import { RetrainSettings } from "./run.js";

/** How long adding a job or asking the queue may wait for Redis (BullMQ waits for ever). */
const QUEUE_TIMEOUT_MS = 5000;
const ERROR_LOG_INTERVAL_MS = 10_000;

async function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the retrain queue (Redis): no answer in ${QUEUE_TIMEOUT_MS} ms`)), QUEUE_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What service.ts needs of a queue (tests may give their own). */
export interface RetrainQueueLike {
  enqueue(retrain: RetrainRecord, settings: RetrainSettings): Promise<void>;
  /** Fails the running row when its job failed, is gone from the queue, or its worker is gone. */
  sweep(store: RetrainStore): Promise<void>;
  /** The retrain was cancelled: its job is removed if it still waits (never throws: a worker that takes it skips a cancelled row). */
  cancel(retrain: RetrainRecord): Promise<void>;
  close(): Promise<void>;
}

export class RetrainQueue implements RetrainQueueLike {
  private readonly queue: Queue<RetrainJob>;
  private readonly errors: RateLimitedLog;
  /** The running retrain whose job the last sweep found active with no retrain worker connected. */
  private orphan: string | undefined;
  /** The running retrain the last sweep said waits for a worker. */
  private waitingSaid: string | undefined;
  /** The running, queued retrain whose job the last sweep did not find on the queue. */
  private missing: string | undefined;

  constructor(connection: RedisConnection, onError: (line: string) => void = () => undefined, errorLogIntervalMs = ERROR_LOG_INTERVAL_MS) {
    this.queue = new Queue<RetrainJob>(RETRAIN_QUEUE_NAME, { connection });
    this.errors = new RateLimitedLog(onError, errorLogIntervalMs);
    this.queue.on("error", (error) => this.errors.report(`the retrain queue (Redis) failed: ${error.message}`));
  }

  async enqueue(retrain: RetrainRecord, settings: RetrainSettings): Promise<void> {
    // Kept when failed, for the sweep to read why; removed once done (the row says everything).
    await within(this.queue.add("retrain", { retrainId: retrain.id, settings }, { jobId: retrainJobId(retrain), attempts: 1, removeOnComplete: true }));
  }

  async sweep(store: RetrainStore): Promise<void> {
    // A Redis or a database that is down is said at a bounded rate; the next sweep tries again.
    await this.look(store).catch((error: unknown) => this.errors.report(`cannot look at the running retrain's job on the queue: ${(error as Error).message}`));
  }

  private async look(store: RetrainStore): Promise<void> {
    const running = (await store.list(0, 20)).find((r) => r.status === "running");
    if (!running) return;
    const jobId = retrainJobId(running);
    const [state, workers] = await within(Promise.all([this.queue.getJobState(jobId), this.queue.getWorkers()]));
    if (state === "unknown" && running.queued) {
      if (this.missing === running.id) await this.fail(store, running, "its job is no longer on the retrain queue (Redis was flushed or restarted without persistence, or the job was removed); start another retrain");
      else this.missing = running.id;
      return;
    }
    this.missing = undefined;
    if (state === "failed") {
      const job = await within(this.queue.getJob(jobId));
      await this.fail(store, running, `the worker running it failed: ${job?.failedReason || "no reason given"}`);
      return;
    }
    if (state === "active" && workers.length === 0) {
      if (this.orphan === running.id) await this.fail(store, running, "the worker running it stopped (killed, or lost its connection to Redis); start another retrain");
      else this.orphan = running.id;
      return;
    }
    this.orphan = undefined;
    if ((state === "waiting" || state === "prioritized") && workers.length === 0 && this.waitingSaid !== running.id) {
      this.waitingSaid = running.id;
      await store.progress(running.id, 0, "queued", [...running.log, "waiting: no `nerkit worker --retrain` is connected to the queue to take it"]);
    }
  }

  private async fail(store: RetrainStore, retrain: RetrainRecord, reason: string): Promise<void> {
    // Read again: the worker may have recorded its end since the list.
    const now = await store.get(retrain.id);
    if (now?.status !== "running") return;
    await store.finish(retrain.id, { status: "failed", error: reason }, [...now.log, `failed: ${reason}`]);
    this.orphan = undefined;
    this.missing = undefined;
  }

  async cancel(retrain: RetrainRecord): Promise<void> {
    try {
      const job = await within(this.queue.getJob(retrainJobId(retrain)));
      if (job && ["waiting", "prioritized", "delayed"].includes(await within(job.getState()))) await within(job.remove());
    } catch (error) {
      // Taken meanwhile, or Redis away: a worker skips a cancelled row, or stops on seeing it.
      this.errors.report(`cannot remove cancelled retrain ${retrain.id}'s job from the queue: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.errors.flush();
  }
}
