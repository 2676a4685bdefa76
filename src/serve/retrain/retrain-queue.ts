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
// A row with no job on the queue is left alone: `nerkit retrain` runs its own, outside the queue.
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
  /** Fails the running row when its job failed or its worker is gone. */
  sweep(store: RetrainStore): Promise<void>;
  close(): Promise<void>;
}

export class RetrainQueue implements RetrainQueueLike {
  private readonly queue: Queue<RetrainJob>;
  private readonly errors: RateLimitedLog;
  /** The running retrain whose job the last sweep found active with no retrain worker connected. */
  private orphan: string | undefined;
  /** The running retrain the last sweep said waits for a worker. */
  private waitingSaid: string | undefined;

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
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.errors.flush();
  }
}
