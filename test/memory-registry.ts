// A model registry in memory for the retrain tests (the real one stores versions in the job
// database and swaps the serving pipeline): versions in a list, folders under a temp folder,
// promote flips statuses (the serving version becomes retired), ids v1, v2, ... never reused.

import { join } from "node:path";
import { NerkitError } from "../src/errors.js";
import { ModelRegistry, ModelVersion, NewModelVersion, TrainingDataRecord } from "../src/serve/models/registry.js";

export class MemoryRegistry implements ModelRegistry {
  readonly versions: ModelVersion[] = [];
  private next = 2;
  /** Ids in the order promote() was asked for them. */
  readonly promotions: string[] = [];

  constructor(private readonly root: string, first: { folder: string; trainingData?: TrainingDataRecord }) {
    this.versions.push({ id: "v1", createdAt: new Date().toISOString(), madeBy: "serve --model", folder: first.folder, status: "serving", trainingData: first.trainingData });
  }

  async list(): Promise<ModelVersion[]> {
    return this.versions.map((v) => ({ ...v }));
  }

  async get(id: string): Promise<ModelVersion | undefined> {
    const found = this.versions.find((v) => v.id === id);
    return found && { ...found };
  }

  async serving(): Promise<ModelVersion> {
    return { ...this.versions.find((v) => v.status === "serving")! };
  }

  async reserve(): Promise<{ id: string; folder: string }> {
    const id = `v${this.next++}`;
    return { id, folder: join(this.root, id) };
  }

  async addCandidate(version: NewModelVersion): Promise<ModelVersion> {
    const added: ModelVersion = { ...version, createdAt: new Date().toISOString(), status: "candidate" };
    this.versions.push(added);
    return { ...added };
  }

  async promote(id: string): Promise<ModelVersion> {
    const version = this.versions.find((v) => v.id === id);
    if (!version) throw new NerkitError("E_USAGE", `no model version ${id}`);
    this.promotions.push(id);
    for (const v of this.versions) if (v.status === "serving") v.status = "retired";
    version.status = "serving";
    version.promotedAt = new Date().toISOString();
    return { ...version };
  }

  async retire(id: string): Promise<ModelVersion> {
    const version = this.versions.find((v) => v.id === id);
    if (!version) throw new NerkitError("E_USAGE", `no model version ${id}`);
    if (version.status === "serving") throw new NerkitError("E_USAGE", `${id} is serving`);
    version.status = "retired";
    return { ...version };
  }
}
