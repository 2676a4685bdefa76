// The SQLite job database's schema: its numbered migrations (each released one frozen; a new one is
// appended) and applying those a database lacks, in one transaction at open (sqlite.ts). The
// migrations of model versions, review order and retrains live beside their stores and are listed here.
// What it leaves out: the queries (sqlite.ts and the stores beside it).

import Database from "better-sqlite3";
import { Migration, pendingMigrations } from "./migrations.js";
import { SQLITE_MIGRATION_5 } from "./review-order-sql.js";
import { MODEL_VERSIONS_MIGRATION } from "./sqlite-models.js";
import { SQLITE_RETRAINS_MIGRATION } from "./retrains-schema.js";
import { SQLITE_RETRAINS_MIGRATION_7 } from "./retrains-schema-7.js";

/** Numbered migrations; a new one is appended, never edited once released. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        total INTEGER NOT NULL,
        done_count INTEGER NOT NULL DEFAULT 0,
        error TEXT
      );
      CREATE INDEX jobs_status ON jobs (status, created_at);
      CREATE TABLE documents (
        job_id TEXT NOT NULL REFERENCES jobs (id),
        seq INTEGER NOT NULL,
        doc_id TEXT,
        text TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
        PRIMARY KEY (job_id, seq)
      );
      CREATE TABLE results (
        job_id TEXT NOT NULL REFERENCES jobs (id),
        seq INTEGER NOT NULL,
        entities TEXT NOT NULL,
        decision TEXT NOT NULL,
        UNIQUE (job_id, seq)
      );`,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE reviews (
        job_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        reviewer TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('accept', 'correct', 'reject')),
        spans TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (job_id, seq, reviewer),
        FOREIGN KEY (job_id, seq) REFERENCES results (job_id, seq)
      );`,
  },
  {
    // The audit sample (jobs/audit-sample.ts): how each job draws it, and which results it drew.
    version: 3,
    sql: `
      ALTER TABLE jobs ADD COLUMN audit_rate REAL;
      ALTER TABLE jobs ADD COLUMN audit_seed INTEGER;
      ALTER TABLE results ADD COLUMN audit INTEGER NOT NULL DEFAULT 0 CHECK (audit IN (0, 1));`,
  },
  MODEL_VERSIONS_MIGRATION,
  SQLITE_MIGRATION_5,
  SQLITE_RETRAINS_MIGRATION,
  SQLITE_RETRAINS_MIGRATION_7,
];

function appliedMigrations(db: Database.Database): number[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  return table ? (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version) : [];
}

/** Applies the migrations not yet recorded, all in one transaction (all or none). A database that
 * has them all is only read, so opening it takes no write lock: another process's lock does not
 * make the open wait (a read in WAL mode never waits for a writer). */
export function migrate(db: Database.Database): void {
  if (pendingMigrations(MIGRATIONS, appliedMigrations(db)).length === 0) return;
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    const applied = (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version);
    const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    for (const m of pendingMigrations(MIGRATIONS, applied)) {
      db.exec(m.sql);
      record.run(m.version, new Date().toISOString());
    }
  }).immediate();
}
