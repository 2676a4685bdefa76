// The PostgreSQL job database's schema: its numbered migrations (each released one frozen; a new one
// is appended) and applying those a database lacks, inside open's transaction (postgres.ts), under
// an advisory lock so that processes starting together do not race. The migrations of model
// versions, review order and retrains live beside their stores and are listed here.
// What it leaves out: the queries (postgres.ts and the stores beside it).

import pg from "pg";
import { Migration, pendingMigrations } from "./migrations.js";
import { POSTGRES_MIGRATION_5 } from "./review-order-sql.js";
import { MODEL_VERSIONS_MIGRATION } from "./postgres-models.js";
import { POSTGRES_RETRAINS_MIGRATION } from "./retrains-schema.js";
import { POSTGRES_RETRAINS_MIGRATION_7 } from "./retrains-schema-7.js";

/**
 * Numbered migrations; a new one is appended, never edited once released. Versions match sqlite.ts's;
 * the SQL is PostgreSQL's own (json, timestamptz, a pos column for SQLite's rowid) and is kept apart
 * from SQLite's even where the two read alike, since each database's released migrations are frozen.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        id text PRIMARY KEY,
        pos bigserial NOT NULL,
        created_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        total integer NOT NULL,
        done_count integer NOT NULL DEFAULT 0,
        error text
      );
      CREATE INDEX jobs_status ON jobs (status, created_at, pos);
      CREATE TABLE documents (
        job_id text NOT NULL REFERENCES jobs (id),
        seq integer NOT NULL,
        doc_id text,
        text text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'done')),
        PRIMARY KEY (job_id, seq)
      );
      CREATE TABLE results (
        job_id text NOT NULL REFERENCES jobs (id),
        seq integer NOT NULL,
        pos bigserial NOT NULL,
        entities json NOT NULL,
        decision text NOT NULL,
        PRIMARY KEY (job_id, seq)
      );
      CREATE INDEX results_review ON results (pos) WHERE decision = 'review';`,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE reviews (
        job_id text NOT NULL,
        seq integer NOT NULL,
        reviewer text NOT NULL,
        action text NOT NULL CHECK (action IN ('accept', 'correct', 'reject')),
        spans json,
        created_at timestamptz NOT NULL,
        pos bigserial NOT NULL,
        UNIQUE (job_id, seq, reviewer),
        FOREIGN KEY (job_id, seq) REFERENCES results (job_id, seq)
      );`,
  },
  {
    // The audit sample (jobs/audit-sample.ts): how each job draws it, and which results it drew.
    version: 3,
    sql: `
      ALTER TABLE jobs ADD COLUMN audit_rate double precision, ADD COLUMN audit_seed bigint;
      ALTER TABLE results ADD COLUMN audit boolean NOT NULL DEFAULT false;
      CREATE INDEX results_audit ON results (pos) WHERE audit;`,
  },
  MODEL_VERSIONS_MIGRATION,
  POSTGRES_MIGRATION_5,
  POSTGRES_RETRAINS_MIGRATION,
  POSTGRES_RETRAINS_MIGRATION_7,
];

/** pg_advisory_xact_lock's key for migrating: any constant that nothing else in the database uses. */
const MIGRATION_LOCK = "7405812634001";

/** Applies the migrations not yet recorded; runs inside open's transaction (all or none). */
export async function migrate(client: pg.PoolClient): Promise<void> {
  // A second process starting now waits here until the first commits, then finds nothing to apply.
  await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK]);
  await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
  const applied = (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version);
  for (const m of pendingMigrations(MIGRATIONS, applied)) {
    await client.query(m.sql);
    await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
  }
}
