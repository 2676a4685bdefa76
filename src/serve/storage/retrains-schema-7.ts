// Migration 7 of each job database, on the retrains table (migration 6: retrains-schema.ts):
// - status may be 'cancelled' (POST /v1/retrain/:id/cancel); the column's CHECK lists it;
// - promotion_refused: why a candidate the gate would promote was not (the registry refused it, as
//   serve --target-precision does for a version whose calibration lacks a target), on a done row;
// - queued: the retrain was handed to the BullMQ retrain queue (serve --queue), so a row whose job
//   is gone from the queue is failed by the server's sweep, while one that `nerkit retrain` runs
//   outside the queue (queued false) is left alone.
// SQLite cannot change a CHECK in place: the table is made again with the rows copied (their seq
// kept, so the ids stay, and the AUTOINCREMENT counter follows the rename).

import type { Migration } from "./migrations.js";

export const SQLITE_RETRAINS_MIGRATION_7: Migration = {
  version: 7,
  sql: `
    CREATE TABLE retrains_7 (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
      created_at TEXT NOT NULL,
      finished_at TEXT,
      progress REAL NOT NULL DEFAULT 0,
      phase TEXT NOT NULL,
      log_tail TEXT NOT NULL DEFAULT '',
      candidate TEXT,
      gate TEXT,
      promoted INTEGER CHECK (promoted IN (0, 1)),
      error TEXT,
      reviews_at_start INTEGER NOT NULL DEFAULT 0,
      promotion_refused TEXT,
      queued INTEGER NOT NULL DEFAULT 0 CHECK (queued IN (0, 1))
    );
    INSERT INTO retrains_7 (seq, status, created_at, finished_at, progress, phase, log_tail, candidate, gate, promoted, error, reviews_at_start)
      SELECT seq, status, created_at, finished_at, progress, phase, log_tail, candidate, gate, promoted, error, reviews_at_start FROM retrains;
    DROP TABLE retrains;
    ALTER TABLE retrains_7 RENAME TO retrains;
    CREATE UNIQUE INDEX retrains_one_running ON retrains (status) WHERE status = 'running';`,
};

export const POSTGRES_RETRAINS_MIGRATION_7: Migration = {
  version: 7,
  sql: `
    ALTER TABLE retrains DROP CONSTRAINT retrains_status_check;
    ALTER TABLE retrains ADD CONSTRAINT retrains_status_check CHECK (status IN ('running', 'done', 'failed', 'cancelled'));
    ALTER TABLE retrains ADD COLUMN promotion_refused text, ADD COLUMN queued boolean NOT NULL DEFAULT false;`,
};
