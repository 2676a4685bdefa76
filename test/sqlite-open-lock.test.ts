// Opening a SQLite job database while another process holds its lock: the open waits for the lock,
// as every statement does (within the busy timeout, off the event loop), instead of failing after
// SQLite's 10 ms busy step. Found by bench/faults: of two `nerkit worker`s started at once beside a
// server, one exited 2 ("cannot open the job database ... (SQLITE_BUSY): database is locked") while
// another connection held the file. Here the lock is held for real by another process
// (sqlite-locker.ts) on a file still in rollback mode, whose switch to WAL at open needs it.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { openRepository } from "../src/serve/storage/open.js";
import { StorageUnavailableError } from "../src/serve/storage/repository.js";
import { tempDir } from "./helpers.js";
import { lockSqlite } from "./sqlite-locker.js";

const dir = tempDir("nerkit-sqlite-open-lock-");
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a SQLite file locked by another process at open: the open waits for the lock, then the database is migrated and usable", async () => {
  const file = join(dir, "waits.db");
  const lock = await lockSqlite(file);
  let released = false;
  const opening = openRepository(file, { busyTimeoutMs: 5000 }).then(
    (repository) => ({ repository, releasedFirst: released }),
    (error: unknown) => ({ error, releasedFirst: released }),
  );
  // The event loop stays free meanwhile: timers fire on time.
  const t0 = performance.now();
  await sleep(300);
  const late = performance.now() - t0 - 300;
  released = true;
  await lock.release();
  const outcome = await opening;
  assert.ok(!("error" in outcome), `the open failed while the lock was held: ${"error" in outcome ? String(outcome.error) : ""}`);
  assert.equal(outcome.releasedFirst, true, "the open finished before the lock was released: the lock did not hold it");
  assert.ok(late < 200, `a 300 ms timer fired ${late.toFixed(0)} ms late: the open blocked the event loop`);
  try {
    const job = await outcome.repository.createJob([{ text: "Alice met Bob" }]);
    assert.equal((await outcome.repository.getJob(job.id))?.total, 1);
  } finally {
    await outcome.repository.close();
  }
});

test("a SQLite file locked for longer than the busy timeout at open: StorageUnavailableError (SQLITE_BUSY) once the timeout has passed, not at once", async () => {
  const file = join(dir, "gives-up.db");
  const lock = await lockSqlite(file);
  try {
    const t0 = performance.now();
    const error = await openRepository(file, { busyTimeoutMs: 400 }).then(
      async (repository) => {
        await repository.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    const waited = performance.now() - t0;
    assert.ok(error instanceof StorageUnavailableError, `expected StorageUnavailableError, got ${String(error)}`);
    assert.match(error.message, /SQLITE_BUSY/);
    assert.ok(waited >= 350, `gave up after ${waited.toFixed(0)} ms, before the 400 ms busy timeout`);
  } finally {
    await lock.release();
  }
});
