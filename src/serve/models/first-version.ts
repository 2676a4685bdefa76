// The first model version. On the first start (no version in the database) the `--model`
// folder is copied into the models folder as v1, under a temporary name renamed when whole (a crash
// mid-copy leaves no half version), and recorded as serving, made by "serve --model <path>". On later
// starts the database's serving version is used, whatever --model names: the registry, not the
// command line, says what serves once it exists (to start over: an empty --models folder and a new --db).
// With --db :memory: (a registry gone with the process) v1 is the --model folder itself, not a copy
// that every start would leave behind.
// What a version records of its training data comes from the folder's training-data.json (a
// TrainingDataRecord, which retraining writes), if it has one; its calibration from calibration.json.
// What it leaves out: two servers making the first version of one database at the same instant (the
// second fails on the one-serving-row index; started again, it finds the first's version).

import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { NerkitError } from "../../errors.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import type { ModelVersion, TrainingDataRecord } from "./registry.js";
import type { FolderModelRegistry } from "./registry-service.js";

/** The folder's training-data.json when it is a TrainingDataRecord; undefined when absent or malformed (a record is optional, never a start-up failure). */
export function recordedTrainingData(folder: string): TrainingDataRecord | undefined {
  const file = join(folder, "training-data.json");
  if (!existsSync(file)) return undefined;
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as Partial<TrainingDataRecord>;
    const ok = Array.isArray(value.files) && value.files.every((f) => typeof f === "string") && typeof value.sha256 === "string" && Number.isInteger(value.reviewedDocuments);
    return ok ? { files: value.files!, sha256: value.sha256!, reviewedDocuments: value.reviewedDocuments! } : undefined;
  } catch {
    return undefined;
  }
}

/** What a version records of the calibration in its folder (method, date, held-out entities). */
export function recordedCalibration(folder: string): ModelVersion["calibration"] {
  const calibration = readModelCalibration(folder);
  return calibration && { method: calibration.method, created: calibration.created, entities: calibration.data.entities };
}

/**
 * Records the first version, v1, serving, made by "serve --model <modelArg>", from the model folder
 * `source` (already loaded by the caller, so a broken model is never recorded): a copy under the
 * models folder, or, with copy false (a --db :memory: registry, gone with the process), `source` itself.
 */
export async function recordFirstVersion(registry: FolderModelRegistry, source: string, modelArg: string, copy = true): Promise<ModelVersion> {
  const { id, folder: reserved } = await registry.reserve();
  let folder = resolve(source);
  if (copy) {
    folder = reserved;
    const temporary = `${folder}.partial-${process.pid}`;
    try {
      mkdirSync(dirname(folder), { recursive: true });
      cpSync(source, temporary, { recursive: true, dereference: true });
      renameSync(temporary, folder);
    } catch (error) {
      rmSync(temporary, { recursive: true, force: true });
      throw new NerkitError("E_IO", `--models: cannot copy the model into the models folder: ${(error as Error).message}`, { file: folder });
    }
  }
  const trainingData = recordedTrainingData(folder);
  const calibration = recordedCalibration(folder);
  const now = new Date().toISOString();
  return registry.store.insert({
    id,
    madeBy: `serve --model ${modelArg}`,
    folder,
    status: "serving",
    createdAt: now,
    promotedAt: now,
    ...(trainingData ? { trainingData } : {}),
    ...(calibration ? { calibration } : {}),
  });
}
