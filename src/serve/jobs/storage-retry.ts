// The job side's answer to a job database that is down for a while (PostgreSQL restarted, its
// connections terminated, a SQLite file locked): a storage call that fails with
// StorageUnavailableError is tried again after a growing wait (0.1 s doubling to 5 s), for as long
// as the database stays unavailable, up to a bound (10 minutes without one success by default);
// past the bound the error is the caller's, and the job fails. Retrying is safe because every
// storage call a job makes is idempotent: saveResults stores a result at most once per (job, seq),
// and a status or a read can be repeated. Any other error is passed on at once.
// What it leaves out: which calls to retry (runner.ts and chunk-worker.ts wrap theirs), and
// reporting (the caller's onRetry feeds the metrics).

import { StorageUnavailableError } from "../storage/repository.js";

export interface StorageRetryOptions {
  /** How long the database may stay unavailable (from the first failure of this call) before the error is passed on. */
  maxOutageMs?: number;
  /** First wait; it doubles up to maxDelayMs. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Answers true once the caller is stopping: the error is passed on instead of waiting again. */
  stopping?: () => boolean;
  /** Called before each wait, with the error, the wait and the retry's number (1 for the first). */
  onRetry?: (error: StorageUnavailableError, delayMs: number, retry: number) => void;
  /** Called once when a call that was retried at least once ends, whether it succeeded or not. */
  onRetryEnd?: () => void;
}

export const DEFAULT_MAX_OUTAGE_MS = 10 * 60_000;

/** fn(), tried again while it fails with StorageUnavailableError, within the options' bound. */
export async function withStorageRetry<T>(fn: () => Promise<T>, options: StorageRetryOptions = {}): Promise<T> {
  const maxOutageMs = options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  let delayMs = options.firstDelayMs ?? 100;
  const started = Date.now();
  let retries = 0;
  try {
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) || options.stopping?.() || Date.now() - started + delayMs > maxOutageMs) throw error;
        retries++;
        options.onRetry?.(error, delayMs, retries);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(maxDelayMs, delayMs * 2);
      }
    }
  } finally {
    if (retries > 0) options.onRetryEnd?.();
  }
}
