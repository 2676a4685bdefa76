// The model versions' rows on SQLite (model-versions.ts says what they are): migration 4, and the
// store, which runs on the job repository's connection through its guarded() (locks waited for as
// every other statement waits). Promotion is one IMMEDIATE transaction, so two processes promoting
// at once take turns; a partial unique index also refuses a second serving row whatever writes it.
// What it leaves out: the model_version columns of results and reviews, which sqlite.ts writes.

import type Database from "better-sqlite3";
import type { Migration } from "./migrations.js";
import type { ModelVersion } from "../models/registry.js";
import { MODEL_VERSION_COLUMNS, ModelVersionRow, ModelVersionStore, StoredModelVersion, rowValues, toModelVersion } from "./model-versions.js";

export const MODEL_VERSIONS_MIGRATION: Migration = {
  version: 4,
  sql: `
    CREATE TABLE model_versions (
      id TEXT PRIMARY KEY,
      number INTEGER NOT NULL UNIQUE,
      parent TEXT,
      created_at TEXT NOT NULL,
      made_by TEXT NOT NULL,
      folder TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('serving', 'candidate', 'retired')),
      training_data TEXT,
      gate TEXT,
      calibration TEXT,
      promoted_at TEXT
    );
    CREATE UNIQUE INDEX model_versions_one_serving ON model_versions (status) WHERE status = 'serving';
    CREATE TABLE model_version_numbers (n INTEGER PRIMARY KEY AUTOINCREMENT, reserved_at TEXT NOT NULL);
    ALTER TABLE results ADD COLUMN model_version TEXT;
    ALTER TABLE reviews ADD COLUMN model_version TEXT;`,
};

/** Runs fn on the repository's connection, waiting out another process's lock (sqlite.ts). */
export type SqliteGuard = <T>(fn: (db: Database.Database) => T) => Promise<T>;

const SELECT = `SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions`;

export class SqliteModelStore implements ModelVersionStore {
  constructor(private readonly guarded: SqliteGuard) {}

  list(): Promise<ModelVersion[]> {
    return this.guarded((db) => (db.prepare(`${SELECT} ORDER BY number`).all() as ModelVersionRow[]).map(toModelVersion));
  }

  get(id: string): Promise<ModelVersion | undefined> {
    return this.guarded((db) => find(db, id));
  }

  serving(): Promise<ModelVersion | undefined> {
    return this.guarded((db) => {
      const row = db.prepare(`${SELECT} WHERE status = 'serving'`).get() as ModelVersionRow | undefined;
      return row && toModelVersion(row);
    });
  }

  reserveNumber(): Promise<number> {
    return this.guarded((db) => Number(db.prepare("INSERT INTO model_version_numbers (reserved_at) VALUES (?)").run(new Date().toISOString()).lastInsertRowid));
  }

  insert(version: StoredModelVersion): Promise<ModelVersion> {
    return this.guarded((db) => {
      db.prepare(`INSERT INTO model_versions (${MODEL_VERSION_COLUMNS}) VALUES (${rowValues(version).map(() => "?").join(", ")})`).run(...rowValues(version));
      return find(db, version.id)!;
    });
  }

  promote(id: string, at: string): Promise<ModelVersion | undefined> {
    return this.guarded((db) =>
      db
        .transaction(() => {
          if (!find(db, id)) return undefined;
          // The old serving row first: the unique index allows one serving row after every statement.
          db.prepare("UPDATE model_versions SET status = 'retired' WHERE status = 'serving' AND id <> ?").run(id);
          db.prepare("UPDATE model_versions SET status = 'serving', promoted_at = ? WHERE id = ?").run(at, id);
          return find(db, id);
        })
        .immediate(),
    );
  }

  retire(id: string): Promise<ModelVersion | "serving" | undefined> {
    return this.guarded((db) =>
      db
        .transaction(() => {
          const version = find(db, id);
          if (!version) return undefined;
          if (version.status === "serving") return "serving" as const;
          db.prepare("UPDATE model_versions SET status = 'retired' WHERE id = ?").run(id);
          return find(db, id);
        })
        .immediate(),
    );
  }
}

function find(db: Database.Database, id: string): ModelVersion | undefined {
  const row = db.prepare(`${SELECT} WHERE id = ?`).get(id) as ModelVersionRow | undefined;
  return row && toModelVersion(row);
}
