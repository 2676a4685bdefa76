// The worker's side of retrains with `serve --queue` (`nerkit worker --retrain`): a BullMQ Worker on
// the retrain queue (retrain-jobs.ts) that takes one retrain at a time and runs it here, as the
// server would have (recorded-run.ts): the trainer a child process of this worker, the registry the
// one over the shared job database and --models folder, the row's progress, log, end, candidate and
// gate written to the shared database. A promotion there only records the new serving version: the
// servers and the other workers follow it (models/serving-registry.ts, models/worker-models.ts).
// A job has one attempt and is never taken again after its worker died (maxStalledCount 0): BullMQ
// fails it, and this worker, or the server's sweep (retrain-queue.ts), marks the row failed. Closing
// stops a running trainer (SIGINT; the retrain is recorded failed) and waits for the row's end.
// What it leaves out: annotation chunks (jobs/chunk-worker.ts) and opening the database (worker.ts).

import { Job as QueueJob, Worker } from "bullmq";
import { hostname } from "node:os";
import { RedisConnection } from "../jobs/chunks.js";
import { RateLimitedLog } from "../jobs/rate-limited-log.js";
import { openModelRegistry } from "../models/registry-service.js";
import { retrainStore } from "../storage/open-retrains.js";
import { JobRepository } from "../storage/repository.js";
import { RETRAIN_QUEUE_NAME, RetrainJob } from "./retrain-jobs.js";
import { runRecordedRetrain } from "./recorded-run.js";

/** How long a close waits for BullMQ once the retrain's end is recorded. */
const CLOSE_GRACE_MS = 5000;

export interface RetrainWorkerOptions {
  connection: RedisConnection;
  /** The registry's models folder (serve --models), on a filesystem this worker shares with the server. */
  modelsDir: string;
  /** Stored on each job it takes (BullMQ's processedBy) and written first in the retrain's log. */
  name: string;
  /** CPU threads for the trainer and the gate; without it, the server's setting. */
  threads?: number;
  /** How long a retrain stays locked without a renewal (the lock is renewed while it runs). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Each line of a retrain's log, for the worker's own output. */
  onLog?: (retrainId: string, line: string) => void;
  onError?: (line: string) => void;
  errorLogIntervalMs?: number;
}

export class RetrainWorker {
  private readonly worker: Worker<RetrainJob, void>;
  private readonly errors: RateLimitedLog;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly repository: JobRepository,
    private readonly options: RetrainWorkerOptions,
  ) {
    this.errors = new RateLimitedLog((line) => options.onError?.(line), options.errorLogIntervalMs ?? 10_000);
    this.worker = new Worker<RetrainJob, void>(RETRAIN_QUEUE_NAME, (job) => this.track(this.process(job)), {
      connection: options.connection,
      name: options.name,
      concurrency: 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      // A retrain whose worker died is failed, not run again: see the header.
      maxStalledCount: 0,
    });
    this.worker.on("failed", (job, error) => job && void this.recordFailed(job, error));
    this.worker.on("error", (error) => this.errors.report(`retrain queue error: ${error.message}`));
  }

  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  private track(work: Promise<void>): Promise<void> {
    this.running = work;
    return work.finally(() => (this.running = undefined));
  }

  private async process(job: QueueJob<RetrainJob, void>): Promise<void> {
    const { retrainId, settings } = job.data;
    const store = await retrainStore(this.repository);
    const row = await store.get(retrainId);
    // Failed by the server's sweep, or by hand, while the job waited: nothing to run.
    if (row?.status !== "running") return;
    await runRecordedRetrain(store, retrainId, {
      repository: this.repository,
      registry: openModelRegistry(this.repository, this.options.modelsDir),
      settings: { ...settings, ...(this.options.threads !== undefined ? { threads: this.options.threads } : {}) },
      firstLines: [`running on worker ${this.options.name}`],
      onLog: (line) => this.options.onLog?.(retrainId, line),
      onError: (error, message) => this.options.onError?.(`${message}: ${(error as Error)?.message ?? String(error)}`),
      signal: this.abort.signal,
    });
  }

  /** A job BullMQ failed (it stalled: its worker died) while its row still says running. */
  private async recordFailed(job: QueueJob<RetrainJob, void>, error: Error): Promise<void> {
    try {
      const store = await retrainStore(this.repository);
      const row = await store.get(job.data.retrainId);
      if (row?.status !== "running") return;
      const reason = `the worker running it stopped (${error.message}); start another retrain`;
      await store.finish(row.id, { status: "failed", error: reason }, [...row.log, `failed: ${reason}`]);
    } catch (markError) {
      this.options.onError?.(`cannot record that retrain ${job.data.retrainId} failed: ${(markError as Error).message}`);
    }
  }

  /** Stops a running retrain (recorded failed), waits for its row's end, and disconnects. */
  async close(): Promise<void> {
    this.abort.abort();
    const closing = this.worker.close();
    await this.running?.catch(() => undefined);
    // BullMQ's close waits for a Redis that went away as long as it takes; the row is written already.
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([closing.then(() => true, () => true), new Promise<false>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS, false)))]);
    clearTimeout(timer);
    if (!closed) {
      const backend = this.worker.getBackend();
      for (const client of await Promise.all([backend.client, ...(backend.blockingClient ? [backend.blockingClient] : [])])) client.disconnect();
    }
    this.errors.flush();
  }
}

/** The worker's name, as BullMQ and the retrain's log show it. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}
