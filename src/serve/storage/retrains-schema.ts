// Migration 6 of each job database: the retrains table (storage/retrains.ts). At most one row is
// running, which a partial unique index over running rows keeps. Kept apart from the stores
// (sqlite-retrains.ts, postgres-retrains.ts) so that the schemas (sqlite-schema.ts,
// postgres-schema.ts) list it without importing the stores, which import the repositories.

import type { Migration } from "./migrations.js";

export const SQLITE_RETRAINS_MIGRATION: Migration = {
  version: 6,
  sql: `
    CREATE TABLE retrains (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
      created_at TEXT NOT NULL,
      finished_at TEXT,
      progress REAL NOT NULL DEFAULT 0,
      phase TEXT NOT NULL,
      log_tail TEXT NOT NULL DEFAULT '',
      candidate TEXT,
      gate TEXT,
      promoted INTEGER CHECK (promoted IN (0, 1)),
      error TEXT,
      reviews_at_start INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX retrains_one_running ON retrains (status) WHERE status = 'running';`,
};

export const POSTGRES_RETRAINS_MIGRATION: Migration = {
  version: 6,
  sql: `
    CREATE TABLE retrains (
      seq bigserial PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
      created_at timestamptz NOT NULL,
      finished_at timestamptz,
      progress double precision NOT NULL DEFAULT 0,
      phase text NOT NULL,
      log_tail text NOT NULL DEFAULT '',
      candidate text,
      gate json,
      promoted boolean,
      error text,
      reviews_at_start bigint NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX retrains_one_running ON retrains (status) WHERE status = 'running';`,
};
