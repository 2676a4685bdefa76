// The model registry (registry.ts's contract) over the job database's model_versions rows
// (storage/model-versions.ts) and a folder of version folders (`serve --models DIR`: DIR/v1, DIR/v2,
// ...). A process that serves a model (the server, a `nerkit worker`) gives the registry its
// SwappablePipeline and a loader; promote() then loads the new version beside the serving one, records
// the promotion, and only then swaps, so that a version that fails to load, or a database that fails
// to record it, leaves the old version serving and the rows unchanged (the new model is closed). A
// process that serves nothing (`nerkit retrain`) gives neither: promote() records, and the serving
// processes follow the database (followServing). Promotions and retirements in one process take turns.
// What it leaves out: the first version (first-version.ts) and HTTP (routes.ts).

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { NerkitError } from "../../errors.js";
import type { PipelineLike } from "../reading.js";
import type { JobRepository } from "../storage/repository.js";
import { ModelVersionStore, versionNumber } from "../storage/model-versions.js";
import type { ModelRegistry, ModelVersion, NewModelVersion, VersionHooks } from "./registry.js";
import type { SwappablePipeline } from "./swappable-pipeline.js";

export interface RegistryServing {
  /** The pipeline that answers; promote() swaps its model. */
  pipeline: SwappablePipeline;
  /** Loads a version's folder (the serve or worker command's settings: threads, quantization, calibration). */
  load: (folder: string) => Promise<PipelineLike>;
  /** A swapped-out model failed to close (logged by the caller; the swap itself stands). */
  onCloseError?: (error: unknown) => void;
}

export function modelNotFound(id: string): NerkitError {
  return new NerkitError("E_MODEL_NOT_FOUND", `no model version '${id}' in the registry (GET /v1/models lists them)`);
}

export class FolderModelRegistry implements ModelRegistry {
  readonly modelsDir: string;
  /** The last promotion or retirement of this process: the next waits for it. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly hooks: VersionHooks[] = [];

  constructor(
    readonly store: ModelVersionStore,
    modelsDir: string,
    private serve?: RegistryServing,
  ) {
    this.modelsDir = resolve(modelsDir);
  }

  /** From now on promotions swap serve.pipeline's model (once the serving version is loaded). */
  attach(serve: RegistryServing): void {
    this.serve = serve;
  }

  watch(hooks: VersionHooks): void {
    this.hooks.push(hooks);
  }

  list(): Promise<ModelVersion[]> {
    return this.store.list();
  }

  /** Undefined for an id that is not one (never asked of the database: a NUL from a URL is an error in PostgreSQL). */
  async get(id: string): Promise<ModelVersion | undefined> {
    return Number.isFinite(versionNumber(id)) ? this.store.get(id) : undefined;
  }

  async serving(): Promise<ModelVersion> {
    const version = await this.store.serving();
    if (!version) throw new NerkitError("E_MODEL_NOT_FOUND", "the registry has no serving version yet (`nerkit serve --model DIR` records the first one)");
    return version;
  }

  /** A number never handed out, whose folder does not exist either (a folder left by an earlier database is skipped, not overwritten). */
  async reserve(): Promise<{ id: string; folder: string }> {
    for (;;) {
      const id = `v${await this.store.reserveNumber()}`;
      const folder = join(this.modelsDir, id);
      if (!existsSync(folder)) return { id, folder };
    }
  }

  async addCandidate(version: NewModelVersion): Promise<ModelVersion> {
    if (!existsSync(join(version.folder, "config.json"))) {
      throw new NerkitError("E_IO", `model version ${version.id}: no model in its folder (config.json is missing)`, { file: version.folder });
    }
    return this.store.insert({ ...version, folder: resolve(version.folder), status: "candidate", createdAt: new Date().toISOString() });
  }

  promote(id: string): Promise<ModelVersion> {
    return this.inTurn(async () => {
      const target = await this.get(id);
      if (!target) throw modelNotFound(id);
      const swapping = this.serve !== undefined && this.serve.pipeline.version !== id;
      // Before loading: a version that cannot serve here (its calibration lacks a threshold) costs no load.
      if (swapping) for (const h of this.hooks) h.prepare?.(target, "promote");
      const loaded = swapping ? await this.serve!.load(target.folder) : undefined;
      let promoted: ModelVersion | undefined;
      try {
        promoted = target.status === "serving" ? target : await this.store.promote(id, new Date().toISOString());
        if (!promoted) throw modelNotFound(id);
      } catch (error) {
        await loaded?.close();
        throw error;
      }
      if (loaded) this.swapIn(promoted, loaded);
      return promoted;
    });
  }

  retire(id: string): Promise<ModelVersion> {
    return this.inTurn(async () => {
      const outcome = Number.isFinite(versionNumber(id)) ? await this.store.retire(id) : undefined;
      if (outcome === undefined) throw modelNotFound(id);
      if (outcome === "serving") throw new NerkitError("E_MODEL_STATUS", `model version '${id}' is serving: promote another version first (rollback: promote the previous one)`);
      return outcome;
    });
  }

  /**
   * Makes this process's pipeline serve what the database says is serving, when another process
   * promoted (a `nerkit worker` calls it before each chunk, the server every few seconds). The
   * version serving here when there is no serving row, or when loading fails, keeps serving.
   */
  followServing(): Promise<void> {
    if (!this.serve) return Promise.resolve();
    return this.inTurn(async () => {
      const serving = await this.store.serving();
      if (!serving || serving.id === this.serve!.pipeline.version) return;
      for (const h of this.hooks) h.prepare?.(serving, "follow");
      this.swapIn(serving, await this.serve!.load(serving.folder));
    });
  }

  private swapIn(version: ModelVersion, loaded: PipelineLike): void {
    this.serve!.pipeline.swap(version.id, loaded).catch((error) => this.serve!.onCloseError?.(error));
    for (const h of this.hooks) h.swapped?.(version);
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.turn.then(fn, fn);
    this.turn = next.catch(() => undefined);
    return next;
  }
}

/**
 * The registry of the models folder `modelsDir` over the job database `repository` (its connection
 * or pool, which the caller keeps open and closes). With `serve`, promotions swap that pipeline's model.
 * The entry point of retraining (`nerkit retrain`, POST /v1/retrain): openModelRegistry(repository, dir).
 */
export function openModelRegistry(repository: JobRepository, modelsDir: string, serve?: RegistryServing): FolderModelRegistry {
  if (!repository.models) throw new NerkitError("E_USAGE", "this job database keeps no model versions");
  return new FolderModelRegistry(repository.models(), modelsDir, serve);
}
