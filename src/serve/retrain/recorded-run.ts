// One retrain run with its row kept up to date: the run itself (run.ts) on every reviewed document
// of the job database, its progress and the tail of its log written to the retrain's row as it goes
// (at most once a second, and at each change of phase), its end recorded as done (candidate, gate
// record, promoted or not) or failed (why). Shared by the server's own retrains (service.ts) and
// those a `nerkit worker --retrain` takes from the queue (retrain-worker.ts), so both write the
// same rows the same way. The row is looked at every second while the run lasts: a retrain cancelled
// (POST /v1/retrain/:id/cancel, on any server) or failed by a sweep stops its trainer here, wherever
// it runs, and its row is left as the cancel wrote it; it is read once more just before promoting.
// What it leaves out: starting the row (the store's start, refused while another runs) and where it runs.

import { NerkitError } from "../../errors.js";
import { ModelRegistry } from "../models/registry.js";
import { JobRepository } from "../storage/repository.js";
import { RetrainStore } from "../storage/retrains.js";
import { RetrainSettings, allReviewed, runRetrain } from "./run.js";

/** Lines of a retrain's log kept in its row. */
export const LOG_TAIL = 50;
const PROGRESS_EVERY_MS = 1000;
/** How often the row is read to see whether the retrain was cancelled. */
const CANCEL_CHECK_MS = 1000;

export interface RecordedRunOptions {
  repository: JobRepository | undefined;
  registry: ModelRegistry | Promise<ModelRegistry>;
  settings: RetrainSettings;
  /** Lines written first in the log (where the retrain runs). */
  firstLines?: readonly string[];
  /** A step failed in a way the row cannot say (an internal error, a row that cannot be written). */
  onError?: (error: unknown, message: string) => void;
  onTrainer?: (pid: number) => void;
  onLog?: (line: string) => void;
  onProgress?: (fraction: number, phase: string) => void;
  signal?: AbortSignal;
}

/** Runs retrain `id` (a running row of store) to its end and records that end; never throws. */
export async function runRecordedRetrain(store: RetrainStore, id: string, options: RecordedRunOptions): Promise<void> {
  const log: string[] = [];
  let fraction = 0;
  let phase = "preparing";
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const write = (force: boolean) => {
    if (!force && Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    const snapshot = [fraction, phase, [...log]] as const;
    writing = writing.then(() => store.progress(id, ...snapshot)).catch((error: unknown) => options.onError?.(error, `cannot store the progress of retrain ${id}`));
  };
  const addLine = (line: string) => {
    options.onLog?.(line);
    log.push(line);
    if (log.length > LOG_TAIL) log.splice(0, log.length - LOG_TAIL);
    write(false);
  };
  for (const line of options.firstLines ?? []) addLine(line);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const stillRunning = async () => (await store.get(id))?.status === "running";
  let looking = false;
  const watcher = setInterval(() => {
    if (looking) return;
    looking = true;
    stillRunning()
      .then((running) => running || stop.abort())
      // A database that does not answer now stops nothing; the next look tries again.
      .catch(() => undefined)
      .finally(() => (looking = false));
  }, CANCEL_CHECK_MS);
  watcher.unref();
  try {
    const reviewed = options.repository ? await allReviewed(options.repository) : [];
    const registry = await options.registry;
    const outcome = await runRetrain(
      id,
      registry,
      reviewed,
      options.settings,
      {
        progress: (f, p) => {
          const changed = p !== phase;
          [fraction, phase] = [f, p];
          options.onProgress?.(f, p);
          write(changed);
        },
        log: addLine,
        trainerStarted: options.onTrainer,
        mayPromote: stillRunning,
      },
      stop.signal,
    );
    addLine(outcome.promoted ? `${outcome.candidate.id} promoted: it serves now` : `${outcome.candidate.id} kept as a candidate, for a person to promote or retire`);
    await writing;
    const refused = outcome.promotionRefused !== undefined ? { promotionRefused: outcome.promotionRefused } : {};
    await store.finish(id, { status: "done", candidate: outcome.candidate.id, gate: outcome.gate, promoted: outcome.promoted, ...refused }, log);
  } catch (error) {
    const message = error instanceof NerkitError ? error.describe() : `internal error: ${(error as Error)?.message ?? String(error)}`;
    if (!(error instanceof NerkitError)) options.onError?.(error, `retrain ${id} failed`);
    addLine(`failed: ${message}`);
    await writing;
    await store.finish(id, { status: "failed", error: message }, log).catch((e: unknown) => options.onError?.(e, `cannot record the end of retrain ${id}`));
  } finally {
    clearInterval(watcher);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
