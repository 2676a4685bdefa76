// Retrains of the service: at most one at a time (the database refuses a second running row:
// storage/retrains.ts), started by hand (POST /v1/retrain) or after --retrain-after new reviews.
// Without a queue it runs here in the background (recorded-run.ts: run.ts with its trainer in a
// child process, progress, log tail and end written to its row). A retrain that a stopped process
// left running is then marked failed when the database is first opened: its trainer died with that
// process or is an orphan whose folder no version records.
// With a queue (serve --queue) the row is started here and the retrain handed to a `nerkit worker
// --retrain` (retrain-queue.ts, retrain-worker.ts), which writes the row; nothing is marked failed at
// open (a worker may be running it), the queue's sweep fails a row whose worker died instead.
// Cancelling marks the row cancelled first (the database says which of two racing ends wins), then
// stops the trainer here, or removes a job still waiting on the queue; a run elsewhere (a worker,
// another server, `nerkit retrain`) stops on seeing its row cancelled (recorded-run.ts).
// What it leaves out: the HTTP routes (routes.ts).

import { ModelRegistry } from "../models/registry.js";
import { JobRepository } from "../storage/repository.js";
import { RetrainRecord, RetrainStore } from "../storage/retrains.js";
import { retrainStore } from "../storage/open-retrains.js";
import { StorageUnavailableError } from "../storage/repository.js";
import { RetrainSettings } from "./run.js";
import { runRecordedRetrain } from "./recorded-run.js";
import type { RetrainQueueLike } from "./retrain-queue.js";

export { LOG_TAIL } from "./recorded-run.js";
/** How often, with a queue, the running retrain's job is looked at (a worker that died fails it). */
const SWEEP_EVERY_MS = 5000;

export interface RetrainServiceOptions {
  /** The job database, if one exists (the review routes' source). */
  repository: () => Promise<JobRepository | undefined>;
  registry: ModelRegistry | Promise<ModelRegistry>;
  settings: RetrainSettings;
  /** Start a retrain once this many reviews were stored since the last one started; undefined: by hand only. */
  retrainAfter?: number;
  /** A background step failed (a retrain is recorded failed; this is for the server's log). */
  onError?: (error: unknown, message: string) => void;
  /** The trainer child's process id, once it runs (tests kill it). */
  onTrainer?: (id: string, pid: number) => void;
  /** Each log line and progress step as it comes (`nerkit retrain` prints them). */
  onLog?: (id: string, line: string) => void;
  onProgress?: (id: string, fraction: number, phase: string) => void;
  /** Mark retrains left running failed when the database is first opened (default true; `nerkit
   * retrain` does not: a server may be running one). */
  failLeftRunning?: boolean;
  /** serve --queue: retrains run on `nerkit worker --retrain` processes. */
  queue?: RetrainQueueLike;
  /** How often the queue's sweep runs (serve --sweep-interval-ms). */
  sweepEveryMs?: number;
}

export type StartOutcome = { started: RetrainRecord } | { running: RetrainRecord } | { noReviews: string };
export type CancelOutcome = { cancelled: RetrainRecord } | { finished: RetrainRecord } | undefined;

/** The reason a cancelled retrain records. */
export const CANCELLED_BY_REQUEST = "cancelled by a request (POST /v1/retrain/:id/cancel)";

export class RetrainService {
  private opened: Promise<RetrainStore> | undefined;
  private current: { id: string; done: Promise<void>; abort: AbortController } | undefined;
  private triggering = false;
  private countAgain = false;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly options: RetrainServiceOptions) {
    const queue = options.queue;
    if (!queue) return;
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = true;
      void this.store()
        .then((store) => store && queue.sweep(store))
        .catch((error: unknown) => this.options.onError?.(error, "cannot look at the running retrain's job on the queue; the next sweep tries again"))
        .finally(() => (this.sweeping = false));
    }, options.sweepEveryMs ?? SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** The store, or undefined while no job database exists; the first open fails what a stopped process left running. */
  async store(): Promise<RetrainStore | undefined> {
    if (this.opened) return this.opened;
    const repository = await this.options.repository();
    if (!repository) return undefined;
    this.opened ??= retrainStore(repository).then(async (store) => {
      if (this.options.failLeftRunning === false || this.options.queue) return store;
      const failed = await store.failRunning("the server stopped while this retrain ran");
      if (failed.length > 0) this.options.onError?.(undefined, `retrains left running by a stopped server were marked failed: ${failed.join(", ")}`);
      return store;
    });
    return this.opened.catch((error: unknown) => {
      this.opened = undefined;
      throw error;
    });
  }

  /** Starts a retrain unless one is running. */
  async start(): Promise<StartOutcome> {
    const store = await this.store();
    if (!store) return { noReviews: "no job database yet, so no reviewed document to retrain on" };
    const started = await store.start(await store.reviewCount(), this.options.queue !== undefined);
    if (!started) {
      const running = (await store.list(0, 20)).find((r) => r.status === "running");
      // Finished between the two statements: the caller may simply try again.
      return running ? { running } : this.start();
    }
    if (this.options.queue) {
      try {
        await this.options.queue.enqueue(started, this.options.settings);
      } catch (error) {
        const reason = `the retrain queue cannot be reached: ${(error as Error).message}`;
        await store.finish(started.id, { status: "failed", error: reason }, [`failed: ${reason}`]);
        throw new StorageUnavailableError(`${reason}; retrain ${started.id} is recorded failed, start it again once Redis answers`, { cause: error });
      }
      return { started };
    }
    const abort = new AbortController();
    this.current = { id: started.id, abort, done: this.run(store, started.id, abort.signal) };
    return { started };
  }

  private async run(store: RetrainStore, id: string, signal: AbortSignal): Promise<void> {
    try {
      await runRecordedRetrain(store, id, {
        repository: await this.options.repository(),
        registry: this.options.registry,
        settings: this.options.settings,
        onError: this.options.onError,
        onTrainer: (pid) => this.options.onTrainer?.(id, pid),
        onLog: (line) => this.options.onLog?.(id, line),
        onProgress: (fraction, phase) => this.options.onProgress?.(id, fraction, phase),
        signal,
      });
    } catch (error) {
      // The database could not be opened: the row cannot be written either.
      this.options.onError?.(error, `retrain ${id} could not start`);
    } finally {
      // A cancelled run may end after the next retrain started: only its own entry goes.
      if (this.current?.id === id) this.current = undefined;
    }
  }

  /** A review was stored: with --retrain-after N, starts a retrain once N reviews came since the last one started. */
  reviewed(): void {
    const after = this.options.retrainAfter;
    if (after === undefined || this.closed || this.current) return;
    // A review stored while the count is being read may not be in it: count again after.
    if (this.triggering) {
      this.countAgain = true;
      return;
    }
    this.triggering = true;
    void (async () => {
      do {
        this.countAgain = false;
        const store = await this.store();
        if (!store) return;
        const since = (await store.reviewCount()) - ((await store.latestReviewsAtStart()) ?? 0);
        if (since >= after && !this.closed && !this.current) await this.start();
      } while (this.countAgain && !this.closed && !this.current);
    })()
      .catch((error: unknown) => this.options.onError?.(error, "cannot start a retrain after new reviews"))
      .finally(() => (this.triggering = false));
  }

  async get(id: string): Promise<RetrainRecord | undefined> {
    return (await this.store())?.get(id);
  }

  async list(offset: number, limit: number): Promise<RetrainRecord[]> {
    return (await (await this.store())?.list(offset, limit)) ?? [];
  }

  /** Cancels a running retrain: { cancelled } with its row; { finished } when it had ended already; undefined for an unknown id. */
  async cancel(id: string): Promise<CancelOutcome> {
    const store = await this.store();
    if (!store) return undefined;
    const cancelled = await store.cancel(id, CANCELLED_BY_REQUEST);
    if (!cancelled) {
      const found = await store.get(id);
      return found && { finished: found };
    }
    if (this.current?.id === id) this.current.abort.abort();
    if (cancelled.queued) await this.options.queue?.cancel(cancelled);
    return { cancelled };
  }

  /** Resolves when no retrain runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.current || this.triggering) await (this.current?.done ?? new Promise((resolve) => setTimeout(resolve, 10)));
  }

  /** Stops a running retrain (its trainer gets SIGINT; the retrain is recorded failed) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.current?.abort.abort();
    await this.idle();
    await this.options.queue?.close();
  }
}
