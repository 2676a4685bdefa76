// The model versions' rows on PostgreSQL (model-versions.ts says what they are): migration 4, and the
// store, which runs on the job repository's pool through its query and transaction helpers
// (postgres.ts: bounded waits, errors translated). Promotion locks the version rows (FOR UPDATE) in
// one transaction, so two processes promoting at once take turns; a partial unique index also
// refuses a second serving row. Times are timestamptz, read back as Date.toISOString() writes them
// (as SQLite stores them); JSON columns are `json`, read back as written.
// What it leaves out: the model_version columns of results and reviews, which postgres.ts writes.

import type pg from "pg";
import type { Migration } from "./migrations.js";
import type { ModelVersion } from "../models/registry.js";
import { MODEL_VERSION_COLUMNS, ModelVersionRow, ModelVersionStore, StoredModelVersion, rowValues, toModelVersion } from "./model-versions.js";

export const MODEL_VERSIONS_MIGRATION: Migration = {
  version: 4,
  sql: `
    CREATE TABLE model_versions (
      id text PRIMARY KEY,
      number integer NOT NULL UNIQUE,
      parent text,
      created_at timestamptz NOT NULL,
      made_by text NOT NULL,
      folder text NOT NULL,
      status text NOT NULL CHECK (status IN ('serving', 'candidate', 'retired')),
      training_data json,
      gate json,
      calibration json,
      promoted_at timestamptz
    );
    CREATE UNIQUE INDEX model_versions_one_serving ON model_versions (status) WHERE status = 'serving';
    CREATE SEQUENCE model_version_numbers;
    ALTER TABLE results ADD COLUMN model_version text;
    ALTER TABLE reviews ADD COLUMN model_version text;`,
};

/** The repository's helpers (postgres.ts): a query on the pool, a transaction on one connection. */
export interface PostgresAccess {
  query<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const SELECT = `SELECT id, parent, ${iso("created_at")} AS created_at, made_by, folder, status, training_data::text AS training_data, gate::text AS gate,
  calibration::text AS calibration, ${iso("promoted_at")} AS promoted_at FROM model_versions`;

async function find(client: pg.PoolClient, id: string, lock = ""): Promise<ModelVersion | undefined> {
  const row = (await client.query<ModelVersionRow>(`${SELECT} WHERE id = $1 ${lock}`, [id])).rows[0];
  return row && toModelVersion(row);
}

export class PostgresModelStore implements ModelVersionStore {
  constructor(private readonly db: PostgresAccess) {}

  async list(): Promise<ModelVersion[]> {
    return (await this.db.query<ModelVersionRow>(`${SELECT} ORDER BY number`)).map(toModelVersion);
  }

  async get(id: string): Promise<ModelVersion | undefined> {
    const row = (await this.db.query<ModelVersionRow>(`${SELECT} WHERE id = $1`, [id]))[0];
    return row && toModelVersion(row);
  }

  async serving(): Promise<ModelVersion | undefined> {
    const row = (await this.db.query<ModelVersionRow>(`${SELECT} WHERE status = 'serving'`))[0];
    return row && toModelVersion(row);
  }

  async reserveNumber(): Promise<number> {
    return Number((await this.db.query<{ n: string }>("SELECT nextval('model_version_numbers')::text AS n"))[0].n);
  }

  async insert(version: StoredModelVersion): Promise<ModelVersion> {
    const values = rowValues(version);
    return this.db.transaction(async (client) => {
      await client.query(`INSERT INTO model_versions (${MODEL_VERSION_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})`, values);
      return (await find(client, version.id))!;
    });
  }

  async promote(id: string, at: string): Promise<ModelVersion | undefined> {
    return this.db.transaction(async (client) => {
      // Every version row locked, in one order: a concurrent promote waits here, then sees this one's outcome.
      await client.query("SELECT 1 FROM model_versions ORDER BY number FOR UPDATE");
      if (!(await find(client, id))) return undefined;
      await client.query("UPDATE model_versions SET status = 'retired' WHERE status = 'serving' AND id <> $1", [id]);
      await client.query("UPDATE model_versions SET status = 'serving', promoted_at = $2 WHERE id = $1", [id, at]);
      return find(client, id);
    });
  }

  async retire(id: string): Promise<ModelVersion | "serving" | undefined> {
    return this.db.transaction(async (client) => {
      const version = await find(client, id, "FOR UPDATE");
      if (!version) return undefined;
      if (version.status === "serving") return "serving" as const;
      await client.query("UPDATE model_versions SET status = 'retired' WHERE id = $1", [id]);
      return find(client, id);
    });
  }
}
