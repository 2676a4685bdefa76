// The serving version at start-up. On the first start (no version in the database) the `--model`
// folder is copied into the models folder as v1, under a temporary name renamed when whole (a crash
// mid-copy leaves no half version), and recorded as serving, made by "serve --model <path>". On later
// starts the database's serving version is used, whatever --model names: the registry, not the
// command line, says what serves once it exists (to start over: an empty --models folder and a new --db).
// What a version records of its training data comes from the folder's training-data.json (a
// TrainingDataRecord, which retraining writes), if it has one; its calibration from calibration.json.
// What it leaves out: two servers making the first version of one database at the same instant (the
// second fails on the one-serving-row index; started again, it finds the first's version).

import { cpSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { NerkitError } from "../../errors.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import type { ModelVersion, TrainingDataRecord } from "./registry.js";
import type { FolderModelRegistry } from "./registry-service.js";
import { join } from "node:path";

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

export interface ServingAtStart {
  version: ModelVersion;
  /** True when this start made it (the registry was empty). */
  created: boolean;
}

/** The version to serve now: the database's serving one, or v1 made from modelDir (`--model`, given as `modelArg`). */
export async function servingAtStart(registry: FolderModelRegistry, modelDir: () => Promise<string>, modelArg: string): Promise<ServingAtStart> {
  const serving = await registry.store.serving();
  if (serving) {
    if (!existsSync(join(serving.folder, "config.json"))) {
      throw new NerkitError("E_IO", `the registry's serving version ${serving.id} has no model in its folder (a models folder on a filesystem this process does not see?)`, { file: serving.folder });
    }
    return { version: serving, created: false };
  }
  const source = await modelDir();
  const { id, folder } = await registry.reserve();
  const temporary = `${folder}.partial-${process.pid}`;
  try {
    cpSync(source, temporary, { recursive: true, dereference: true });
    renameSync(temporary, folder);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw new NerkitError("E_IO", `cannot copy the model into the models folder: ${(error as Error).message}`, { file: folder });
  }
  const trainingData = recordedTrainingData(folder);
  const calibration = recordedCalibration(folder);
  const now = new Date().toISOString();
  const version = await registry.store.insert({
    id,
    madeBy: `serve --model ${modelArg}`,
    folder,
    status: "serving",
    createdAt: now,
    promotedAt: now,
    ...(trainingData ? { trainingData } : {}),
    ...(calibration ? { calibration } : {}),
  });
  return { version, created: true };
}
