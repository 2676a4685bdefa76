// Job retention (`nerkit serve --retain-days N`): finished (done or failed) jobs created more than N
// days ago are deleted with their documents, results and reviews, once at start and then every
// interval (hourly by default). Age counts from creation: the repository keeps no finishing time,
// and a job runs minutes, not days. Queued and running jobs are never deleted, however old.
// The clock is injectable so that tests can move it instead of waiting.
// What it leaves out: a size-based limit; archiving before deleting.

import { JobRepository } from "../storage/repository.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Jobs deleted per query, so that a sweep after a long pause does not read every id at once. */
const SWEEP_BATCH = 500;

export interface RetentionOptions {
  retainDays: number;
  intervalMs?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<string[]> | undefined;
  private stopped = false;

  constructor(
    /** The repository, or undefined while no job database exists (nothing to sweep). */
    private readonly repository: () => Promise<JobRepository | undefined>,
    private readonly options: RetentionOptions,
  ) {
    if (!(Number.isFinite(options.retainDays) && options.retainDays >= 0)) throw new Error(`retainDays must be a number >= 0, got ${options.retainDays}`);
  }

  /** Sweeps now, then every interval, until stop(). */
  start(): void {
    const tick = () => void this.sweep().catch((error: unknown) => this.options.onError?.(error));
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60 * 60 * 1000);
    this.timer.unref();
  }

  /** Deletes the finished jobs past retention; their ids. Sweeps do not overlap: a second call joins the first. */
  sweep(): Promise<string[]> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async sweepOnce(): Promise<string[]> {
    const repository = await this.repository();
    if (!repository) return [];
    const before = new Date((this.options.now?.() ?? new Date()).getTime() - this.options.retainDays * DAY_MS).toISOString();
    const deleted: string[] = [];
    for (;;) {
      if (this.stopped) return deleted;
      const ids = await repository.finishedJobsBefore(before, SWEEP_BATCH);
      let removed = 0;
      for (const id of ids) {
        if ((await repository.deleteJob(id)) === "deleted") {
          deleted.push(id);
          removed++;
        }
      }
      if (ids.length < SWEEP_BATCH || removed === 0) return deleted;
    }
  }
}
