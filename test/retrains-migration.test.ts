// Migration 7 (storage/retrains-schema-7.ts) on a job database made at migration 6, on SQLite and
// PostgreSQL: the retrains already stored read back as before (same ids, not queued), the next
// retrain takes the next id (SQLite's AUTOINCREMENT counter follows the table made again), and the
// new status and columns are accepted (a cancelled row, a refused promotion's reason, a queued row).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { MIGRATIONS as POSTGRES_MIGRATIONS } from "../src/serve/storage/postgres.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../src/serve/storage/sqlite.js";
import { openRepository } from "../src/serve/storage/open.js";
import { retrainStore } from "../src/serve/storage/open-retrains.js";
import { tempDir } from "./helpers.js";
import { postgresSkipReason, testPostgres, TestDatabase } from "./postgres-server.js";

const dir = tempDir("nerkit-retrains-migration-");
const databases: TestDatabase[] = [];
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const d of databases) await d.drop();
});

const gate = {
  decision: "promote" as const,
  reason: "promoted",
  gold: { source: "gold-file" as const, documents: 1, sha256: "ab" },
  candidate: { microF1: 0.9, perType: { PER: 0.9 }, support: 3 },
  serving: { microF1: 0.8, perType: { PER: 0.8 }, support: 3, version: "v1" },
  promoteMargin: 0.5,
  maxTypeDrop: 2,
};

/** Opens `location` (migrated to 7 by the open) and checks what migration 6's rows became. */
async function checkUpgraded(location: string): Promise<void> {
  const repository = await openRepository(location);
  try {
    const store = await retrainStore(repository);
    const old = await store.list(0, 10);
    assert.deepEqual(
      old.map((r) => [r.id, r.status, r.error, r.queued, r.promotionRefused, r.reviewsAtStart]),
      [
        ["r3", "failed", "killed", false, undefined, 5],
        ["r1", "done", undefined, false, undefined, 2],
      ],
    );
    const next = (await store.start(7, true))!;
    assert.deepEqual([next.id, next.queued, next.status], ["r4", true, "running"], "the id after the highest ever taken (r2 was deleted)");
    assert.equal((await store.cancel(next.id, "asked"))?.status, "cancelled");
    const refused = (await store.start(8))!;
    await store.finish(refused.id, { status: "done", candidate: "v3", gate, promoted: false, promotionRefused: "refused (E_MODEL_CALIBRATION)" }, ["a line"]);
    const done = await store.get(refused.id);
    assert.deepEqual([done?.id, done?.status, done?.promoted, done?.promotionRefused, done?.log], ["r5", "done", false, "refused (E_MODEL_CALIBRATION)", ["a line"]]);
    // A finished row is not ended again.
    await store.finish(refused.id, { status: "failed", error: "late" }, []);
    assert.equal((await store.get(refused.id))?.status, "done");
    assert.equal(await store.cancel(refused.id, "late"), undefined);
  } finally {
    await repository.close();
  }
}

const ROWS = [
  ["done", "2026-01-01T00:00:00.000Z", 1, "done", 2],
  ["failed", "2026-01-02T00:00:00.000Z", 0, "failed", 3],
  ["failed", "2026-01-03T00:00:00.000Z", 0, "failed", 5],
] as const;

test("SQLite: retrains stored at migration 6 read back after migration 7, ids continue, the new status and columns are accepted", async () => {
  const file = join(dir, "at-6.db");
  const db = new Database(file);
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 6)) {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_migrations VALUES (?, ?)").run(m.version, new Date().toISOString());
  }
  for (const [status, created, progress, phase, reviews] of ROWS) {
    db.prepare("INSERT INTO retrains (status, created_at, progress, phase, reviews_at_start, error, gate, candidate, promoted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").run(
      status, created, progress, phase, reviews, status === "failed" ? "killed" : null, status === "done" ? JSON.stringify(gate) : null, status === "done" ? "v2" : null, status === "done" ? 1 : null,
    );
  }
  db.exec("DELETE FROM retrains WHERE seq = 2");
  assert.throws(() => db.prepare("INSERT INTO retrains (seq, status, created_at, phase) VALUES (100, 'cancelled', 'x', 'x')").run(), /CHECK constraint failed/, "migration 6 refuses the status");
  db.close();
  await checkUpgraded(file);
});

test("PostgreSQL: retrains stored at migration 6 read back after migration 7, ids continue, the new status and columns are accepted", { skip: await postgresSkipReason() }, async () => {
  const database = (await testPostgres())!;
  databases.push(database);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query("CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    for (const m of POSTGRES_MIGRATIONS.filter((m) => m.version <= 6)) {
      await client.query(m.sql);
      await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
    }
    for (const [status, created, progress, phase, reviews] of ROWS) {
      await client.query("INSERT INTO retrains (status, created_at, progress, phase, reviews_at_start, error, gate, candidate, promoted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", [
        status, created, progress, phase, reviews, status === "failed" ? "killed" : null, status === "done" ? JSON.stringify(gate) : null, status === "done" ? "v2" : null, status === "done" ? true : null,
      ]);
    }
    await client.query("DELETE FROM retrains WHERE seq = 2");
    await assert.rejects(client.query("INSERT INTO retrains (seq, status, created_at, phase) VALUES (100, 'cancelled', now(), 'x')"), /retrains_status_check/, "migration 6 refuses the status");
  } finally {
    await client.end();
  }
  await checkUpgraded(database.url);
});
