// Retrains inside the service: at most one at a time (the database refuses a second running row:
// storage/retrains.ts), started by hand (POST /v1/retrain) or after --retrain-after new reviews,
// run in the background (run.ts; its trainer in a child process), its progress and the tail of its
// log written to its row as it goes (at most once a second, and at each change of phase), its end
// recorded as done (candidate, gate record, promoted or not) or failed (why). A retrain that a
// stopped process left running is marked failed when the database is first opened: its trainer
// died with that process or is an orphan whose folder no version records.
// What it leaves out: running the retrain on a `nerkit worker` (with --queue it still runs here).

import { NerkitError } from "../../errors.js";
import { ModelRegistry } from "../models/registry.js";
import { JobRepository } from "../storage/repository.js";
import { RetrainRecord, RetrainStore } from "../storage/retrains.js";
import { retrainStore } from "../storage/open-retrains.js";
import { RetrainSettings, allReviewed, runRetrain } from "./run.js";

/** Lines of a retrain's log kept in its row. */
export const LOG_TAIL = 50;
const PROGRESS_EVERY_MS = 1000;

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
}

export type StartOutcome = { started: RetrainRecord } | { running: RetrainRecord } | { noReviews: string };

export class RetrainService {
  private opened: Promise<RetrainStore> | undefined;
  private current: { id: string; done: Promise<void>; abort: AbortController } | undefined;
  private triggering = false;
  private countAgain = false;
  private closed = false;

  constructor(private readonly options: RetrainServiceOptions) {}

  /** The store, or undefined while no job database exists; the first open fails what a stopped process left running. */
  async store(): Promise<RetrainStore | undefined> {
    if (this.opened) return this.opened;
    const repository = await this.options.repository();
    if (!repository) return undefined;
    this.opened ??= retrainStore(repository).then(async (store) => {
      if (this.options.failLeftRunning === false) return store;
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
    const started = await store.start(await store.reviewCount());
    if (!started) {
      const running = (await store.list(0, 20)).find((r) => r.status === "running");
      // Finished between the two statements: the caller may simply try again.
      return running ? { running } : this.start();
    }
    const abort = new AbortController();
    this.current = { id: started.id, abort, done: this.run(store, started.id, abort.signal) };
    return { started };
  }

  private async run(store: RetrainStore, id: string, signal: AbortSignal): Promise<void> {
    const log: string[] = [];
    let fraction = 0;
    let phase = "preparing";
    let lastWrite = 0;
    let writing: Promise<void> = Promise.resolve();
    const write = (force: boolean) => {
      if (!force && Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
      lastWrite = Date.now();
      const snapshot = [fraction, phase, [...log]] as const;
      writing = writing.then(() => store.progress(id, ...snapshot)).catch((error: unknown) => this.options.onError?.(error, `cannot store the progress of retrain ${id}`));
    };
    const addLine = (line: string) => {
      this.options.onLog?.(id, line);
      log.push(line);
      if (log.length > LOG_TAIL) log.splice(0, log.length - LOG_TAIL);
      write(false);
    };
    try {
      const repository = await this.options.repository();
      const reviewed = repository ? await allReviewed(repository) : [];
      const registry = await this.options.registry;
      const outcome = await runRetrain(
        id,
        registry,
        reviewed,
        this.options.settings,
        {
          progress: (f, p) => {
            const changed = p !== phase;
            [fraction, phase] = [f, p];
            this.options.onProgress?.(id, f, p);
            write(changed);
          },
          log: addLine,
          trainerStarted: (pid) => this.options.onTrainer?.(id, pid),
        },
        signal,
      );
      addLine(outcome.promoted ? `${outcome.candidate.id} promoted: it serves now` : `${outcome.candidate.id} kept as a candidate, for a person to promote or retire`);
      await writing;
      await store.finish(id, { status: "done", candidate: outcome.candidate.id, gate: outcome.gate, promoted: outcome.promoted }, log);
    } catch (error) {
      const message = error instanceof NerkitError ? error.describe() : `internal error: ${(error as Error)?.message ?? String(error)}`;
      if (!(error instanceof NerkitError)) this.options.onError?.(error, `retrain ${id} failed`);
      addLine(`failed: ${message}`);
      await writing;
      await store.finish(id, { status: "failed", error: message }, log).catch((e: unknown) => this.options.onError?.(e, `cannot record the end of retrain ${id}`));
    } finally {
      this.current = undefined;
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

  /** Resolves when no retrain runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.current || this.triggering) await (this.current?.done ?? new Promise((resolve) => setTimeout(resolve, 10)));
  }

  /** Stops a running retrain (its trainer gets SIGINT; the retrain is recorded failed) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    this.current?.abort.abort();
    await this.idle();
  }
}
