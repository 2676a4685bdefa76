// The contract of the model registry (issue 12): what a model version is and what the service, the
// retrain job and the gate may ask of the registry. The registry itself (storage of the rows on
// SQLite and PostgreSQL, the version folders under `serve --models`, the swap of the serving model)
// implements ModelRegistry elsewhere in this folder; retraining codes against this interface only.
// What it leaves out: how versions are stored and how the serving pipeline is swapped.

/** serving: the one version that answers requests; candidate: trained, waiting for the gate or a person; retired: served once, or refused. */
export type ModelStatus = "serving" | "candidate" | "retired";

/** The data a version was trained on, as recorded when it was made (a retrain starts from it). */
export interface TrainingDataRecord {
  /** Files the version's training read, in order (the original training data first, then the reviewed documents). */
  files: string[];
  /** sha256 (hex) of the training data's contents, all files in order. */
  sha256: string;
  /** Reviewed documents among them (0 for the first version). */
  reviewedDocuments: number;
}

/** One side of the gate's comparison: scores on the gold set. */
export interface VersionScores {
  microF1: number;
  /** F1 per entity type. */
  perType: Record<string, number>;
  /** Entities in the gold set that the scores count. */
  support: number;
}

/** What the gate decided for a candidate, and why. */
export interface GateRecord {
  decision: "promote" | "keep-candidate";
  /** One line a person reads: the figures that decided. */
  reason: string;
  /** What the gate compared on: a --gold file, or the held-out share of reviewed documents. */
  gold: { source: "gold-file" | "holdout"; path?: string; documents: number; sha256: string };
  candidate: VersionScores;
  serving: VersionScores & { version: string };
  /** The thresholds the gate applied (points of F1). */
  promoteMargin: number;
  maxTypeDrop: number;
}

export interface ModelVersion {
  /** "v1", "v2", ... in the order versions were made. */
  id: string;
  /** The version it was fine-tuned from; none for the first. */
  parent?: string;
  /** ISO 8601. */
  createdAt: string;
  /** How it was made, one line: "serve --model ./model", "retrain r3 (412 reviewed documents)". */
  madeBy: string;
  /** Absolute path of the version's model folder (under `serve --models`). */
  folder: string;
  status: ModelStatus;
  trainingData?: TrainingDataRecord;
  /** The gate's comparison, for versions made by a retrain. */
  gate?: GateRecord;
  /** The calibration the version serves with (its calibration.json's method and counts), if any. */
  calibration?: { method: string; created?: string; entities?: number };
  /** When it last became serving (ISO 8601), if ever. */
  promotedAt?: string;
}

/** What a retrain registers: a trained folder already inside the registry's folder. */
export interface NewModelVersion {
  id: string;
  parent?: string;
  madeBy: string;
  folder: string;
  trainingData?: TrainingDataRecord;
  gate?: GateRecord;
  calibration?: ModelVersion["calibration"];
}

/** What a process that serves a model does when the version serving it changes (app.ts: routing thresholds, drift). */
export interface VersionHooks {
  /** `version` is about to serve here: "promote" (asked of this process: throwing refuses the promotion, the old version serves on) or "follow" (another process promoted it). */
  prepare?: (version: ModelVersion, cause: "promote" | "follow") => void;
  /** `version` now serves here: new runs use it. */
  swapped?: (version: ModelVersion) => void;
}

export interface ModelRegistry {
  /** Every version, oldest first. */
  list(): Promise<ModelVersion[]>;
  get(id: string): Promise<ModelVersion | undefined>;
  /** The version serving now. */
  serving(): Promise<ModelVersion>;
  /** A new version id and the folder (absolute, not yet created) its files go to. Ids are never reused. */
  reserve(): Promise<{ id: string; folder: string }>;
  /** Records a trained folder (reserved with reserve()) as a candidate. */
  addCandidate(version: NewModelVersion): Promise<ModelVersion>;
  /**
   * Makes `id` the serving version: loads it beside the serving one, switches new requests to it at
   * once, closes the old one when its in-flight requests finish; the old version becomes retired.
   * Rollback is promoting the previous version. Throws NerkitError E_MODEL_NOT_FOUND / E_MODEL_STATUS.
   */
  promote(id: string): Promise<ModelVersion>;
  /** A candidate (or retired) version is retired; retiring the serving version is refused (E_MODEL_STATUS). */
  retire(id: string): Promise<ModelVersion>;
  /** Hooks run on each swap of this process's served model (registries that serve a model have it). */
  watch?(hooks: VersionHooks): void;
}
