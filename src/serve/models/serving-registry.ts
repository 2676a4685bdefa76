// What `nerkit serve` and `nerkit worker` open for the model registry, as one function each: the job
// database's model versions with the models folder, the version to serve (first-version.ts), loaded
// into a SwappablePipeline that promotions swap, and a watch that follows promotions made by another
// process (a `nerkit retrain`, another server): the serving row is read every followEveryMs.
// On SQLite the registry opens a connection for each of its calls instead of keeping one: a
// connection opened while the file was read-only stays read-only, and, kept open, it kept the job
// service's own connection from writing once the file was writable again (sqlite-readonly.test.ts).
// What it leaves out: printing (the CLI's, from what this returns) and HTTP (routes.ts).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { NerkitError } from "../../errors.js";
import type { PipelineLike } from "../reading.js";
import { OpenRepositoryOptions, isPostgresUrl, openRepository } from "../storage/open.js";
import type { JobRepository } from "../storage/repository.js";
import type { ModelVersionStore } from "../storage/model-versions.js";
import { recordFirstVersion } from "./first-version.js";
import type { ModelVersion } from "./registry.js";
import { FolderModelRegistry, openModelRegistry } from "./registry-service.js";
import { SwappablePipeline } from "./swappable-pipeline.js";

export interface ServingRegistryOptions {
  /** The job database (--db) and how long its calls may wait. */
  db: string;
  timeouts?: OpenRepositoryOptions;
  /** --models. */
  modelsDir: string;
  /** The --model folder (resolved only on a first start), and the --model argument as given. */
  modelDir: () => Promise<string>;
  modelArg: string;
  /** Loads a version's folder with the command's settings. */
  load: (folder: string) => Promise<PipelineLike>;
  /** Checks the folder about to be served before it loads (serve --target-precision reads its calibration.json);
   * `label` names it in messages: --model as given on a first start, else the version's folder. */
  check?: (folder: string, label: string) => void;
  /** How often the serving row is read for promotions made elsewhere; 0: never. */
  followEveryMs?: number;
  /** A swapped-out model failed to close, or following a promotion failed (it is tried again at the next read). */
  onError?: (error: unknown, what: "close" | "follow") => void;
}

export interface ServingRegistry {
  registry: FolderModelRegistry;
  pipeline: SwappablePipeline;
  /** The version serving at start. */
  version: ModelVersion;
  /** True when this start recorded it (the registry was empty: v1 from --model). */
  created: boolean;
  /** Stops following and closes the registry's database connection (not the pipeline: its owner closes it). */
  close(): Promise<void>;
}

/** The registry's serving version loaded, or (an empty registry) --model loaded and recorded as v1. */
export async function openServingRegistry(options: ServingRegistryOptions): Promise<ServingRegistry> {
  const repository = isPostgresUrl(options.db) || options.db === ":memory:" ? await openRepository(options.db, options.timeouts) : undefined;
  try {
    const registry = repository ? openModelRegistry(repository, options.modelsDir) : new FolderModelRegistry(connectionPerCall(() => openRepository(options.db, options.timeouts)), options.modelsDir);
    let version = await registry.store.serving();
    let loaded: PipelineLike;
    const created = !version;
    if (version) {
      options.check?.(version.folder, version.folder);
      loaded = await loadVersion(options.load, version.folder, version.id);
    } else {
      const source = await options.modelDir();
      options.check?.(source, options.modelArg);
      loaded = await options.load(source);
      try {
        version = await recordFirstVersion(registry, source, options.modelArg, options.db !== ":memory:");
      } catch (error) {
        await loaded.close();
        throw error;
      }
    }
    const pipeline = new SwappablePipeline(version.id, loaded);
    registry.attach({ pipeline, load: (folder) => options.load(folder), onCloseError: (error) => options.onError?.(error, "close") });
    const timer = options.followEveryMs ? setInterval(() => void registry.followServing().catch((error) => options.onError?.(error, "follow")), options.followEveryMs) : undefined;
    timer?.unref();
    return { registry, pipeline, version, created, close: async () => (clearInterval(timer), await repository?.close()) };
  } catch (error) {
    await repository?.close().catch(() => undefined);
    throw error;
  }
}

async function loadVersion(load: (folder: string) => Promise<PipelineLike>, folder: string, id: string): Promise<PipelineLike> {
  if (!existsSync(join(folder, "config.json"))) {
    throw new NerkitError("E_IO", `the registry's serving version ${id} has no model in its folder (a models folder on a filesystem this process does not see?)`, { file: folder });
  }
  try {
    return await load(folder);
  } catch (error) {
    if (error instanceof NerkitError) throw new NerkitError(error.code, `model version ${id} (${folder}): ${error.describe()}`);
    throw error;
  }
}

/** A store whose every call runs on a connection opened for it and closed after it. */
function connectionPerCall(open: () => Promise<JobRepository>): ModelVersionStore {
  const call = async <T>(fn: (store: ModelVersionStore) => Promise<T>): Promise<T> => {
    const repository = await open();
    try {
      return await fn(repository.models!());
    } finally {
      await repository.close();
    }
  };
  return {
    list: () => call((s) => s.list()),
    get: (id) => call((s) => s.get(id)),
    serving: () => call((s) => s.serving()),
    reserveNumber: () => call((s) => s.reserveNumber()),
    insert: (version) => call((s) => s.insert(version)),
    promote: (id, at) => call((s) => s.promote(id, at)),
    retire: (id) => call((s) => s.retire(id)),
  };
}
