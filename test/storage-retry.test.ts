// withStorageRetry (src/serve/jobs/storage-retry.ts), the policy that keeps a batch job alive while
// its database is down: StorageUnavailableError is retried with a doubling wait until the call
// succeeds, other errors are passed on at once, and the outage bound and a stopping caller end the
// waiting. The real outages (terminated connections, a stopped PostgreSQL) are postgres-faults.test.ts's.

import assert from "node:assert/strict";
import { test } from "node:test";
import { withStorageRetry } from "../src/serve/jobs/storage-retry.js";
import { StorageUnavailableError } from "../src/serve/storage/repository.js";

/** A call that fails with `error` the first `failures` times, then answers "stored"; counts its calls. */
function failing(failures: number, error: () => Error = () => new StorageUnavailableError("down")) {
  const calls = { n: 0 };
  const fn = async () => {
    calls.n++;
    if (calls.n <= failures) throw error();
    return "stored";
  };
  return { fn, calls };
}

test("StorageUnavailableError is retried with a doubling wait, capped, until the call succeeds", async () => {
  const { fn, calls } = failing(4);
  const delays: number[] = [];
  const retries: number[] = [];
  let ended = 0;
  const retrying = { firstDelayMs: 1, maxDelayMs: 4, onRetry: (_e: Error, d: number, n: number) => (delays.push(d), retries.push(n)), onRetryEnd: () => ended++ };
  assert.equal(await withStorageRetry(fn, retrying), "stored");
  assert.equal(calls.n, 5);
  assert.deepEqual(delays, [1, 2, 4, 4]);
  assert.deepEqual(retries, [1, 2, 3, 4]);
  assert.equal(ended, 1);
  // A call that needs no retry reports none.
  assert.equal(await withStorageRetry(failing(0).fn, retrying), "stored");
  assert.equal(ended, 1);
});

test("any other error is passed on at once, without a retry", async () => {
  const { fn, calls } = failing(1, () => new Error("the model exploded"));
  await assert.rejects(withStorageRetry(fn, { firstDelayMs: 1 }), /the model exploded/);
  assert.equal(calls.n, 1);
});

test("past the outage bound the StorageUnavailableError is passed on", async () => {
  const { fn, calls } = failing(Infinity);
  const started = Date.now();
  let ended = 0;
  await assert.rejects(withStorageRetry(fn, { firstDelayMs: 10, maxDelayMs: 10, maxOutageMs: 100, onRetryEnd: () => ended++ }), StorageUnavailableError);
  assert.equal(ended, 1, "a call that gave up must end its retrying too");
  assert.ok(calls.n >= 2 && calls.n <= 11, `${calls.n} calls`);
  assert.ok(Date.now() - started < 1000, "waited far past the bound");
});

test("a caller that is stopping gets the error instead of another wait", async () => {
  const { fn, calls } = failing(Infinity);
  let stopping = false;
  await assert.rejects(withStorageRetry(fn, { firstDelayMs: 1, stopping: () => stopping, onRetry: () => (stopping = calls.n >= 3) }), StorageUnavailableError);
  assert.equal(calls.n, 4);
});
