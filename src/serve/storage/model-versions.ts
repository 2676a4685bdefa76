// Where the model registry's rows live (issue 12): one row per model version in the job database, on
// the job repository's own connection (SQLite: sqlite-models.ts) or pool (PostgreSQL:
// postgres-models.ts), so that versions, results and reviews share one database and its backups.
// This module holds what both share: the store's interface, the row shape their queries return and
// its mapping to a ModelVersion. Version numbers come from a counter that never hands a number out
// twice (AUTOINCREMENT, a sequence), so a reserved id whose training failed is never reused.
// What it leaves out: folders and pipelines (serve/models/), and SQL, which differs per database.

import type { ModelStatus, ModelVersion, NewModelVersion } from "../models/registry.js";

/** A version as stored: a new one's fields plus its status and times. */
export interface StoredModelVersion extends NewModelVersion {
  status: ModelStatus;
  createdAt: string;
  promotedAt?: string;
}

export interface ModelVersionStore {
  /** Every version, oldest (lowest number) first. */
  list(): Promise<ModelVersion[]>;
  get(id: string): Promise<ModelVersion | undefined>;
  serving(): Promise<ModelVersion | undefined>;
  /** A version number never handed out before (1, 2, ...). */
  reserveNumber(): Promise<number>;
  /** Stores a version; its id must be "v" + a reserved number. */
  insert(version: StoredModelVersion): Promise<ModelVersion>;
  /**
   * In one transaction: the version serving now (if another) becomes retired, `id` becomes serving
   * with promotedAt `at`. Undefined when there is no such version (nothing changed).
   */
  promote(id: string, at: string): Promise<ModelVersion | undefined>;
  /** `id` becomes retired; "serving" (nothing changed) when it is the serving version; undefined when there is none. */
  retire(id: string): Promise<ModelVersion | "serving" | undefined>;
}

export interface ModelVersionRow {
  id: string;
  parent: string | null;
  created_at: string;
  made_by: string;
  folder: string;
  status: ModelStatus;
  /** JSON text, or null. */
  training_data: string | null;
  gate: string | null;
  calibration: string | null;
  promoted_at: string | null;
}

/** The number in an id "v12" (12); NaN for anything else. */
export function versionNumber(id: string): number {
  const match = /^v([1-9]\d*)$/.exec(id);
  return match ? Number(match[1]) : NaN;
}

export function toModelVersion(row: ModelVersionRow): ModelVersion {
  return {
    id: row.id,
    ...(row.parent !== null ? { parent: row.parent } : {}),
    createdAt: row.created_at,
    madeBy: row.made_by,
    folder: row.folder,
    status: row.status,
    ...(row.training_data !== null ? { trainingData: JSON.parse(row.training_data) as ModelVersion["trainingData"] } : {}),
    ...(row.gate !== null ? { gate: JSON.parse(row.gate) as ModelVersion["gate"] } : {}),
    ...(row.calibration !== null ? { calibration: JSON.parse(row.calibration) as ModelVersion["calibration"] } : {}),
    ...(row.promoted_at !== null ? { promotedAt: row.promoted_at } : {}),
  };
}

/** The row's values in column order (id, number, parent, created_at, made_by, folder, status, training_data, gate, calibration, promoted_at). */
export function rowValues(v: StoredModelVersion): unknown[] {
  const number = versionNumber(v.id);
  if (!Number.isFinite(number)) throw new Error(`not a model version id: ${v.id}`);
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  return [v.id, number, v.parent ?? null, v.createdAt, v.madeBy, v.folder, v.status, json(v.trainingData), json(v.gate), json(v.calibration), v.promotedAt ?? null];
}

export const MODEL_VERSION_COLUMNS = "id, number, parent, created_at, made_by, folder, status, training_data, gate, calibration, promoted_at";
