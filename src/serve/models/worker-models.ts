// The model a `nerkit worker` annotates with, following the registry: at start the database's
// serving version (its folder, which must be on a filesystem the worker shares with the server), or
// --model while the registry is empty; before each chunk the serving row is read again and, when
// another version serves, that one is loaded and swapped in (SwappablePipeline: the chunks in
// progress finish on the old model). A promotion thus reaches every worker at its next chunk.
// What it leaves out: the queue (jobs/chunk-worker.ts) and promoting, which servers and retraining do.

import type { PipelineLike } from "../reading.js";
import type { JobRepository } from "../storage/repository.js";
import { FolderModelRegistry } from "./registry-service.js";
import { SwappablePipeline } from "./swappable-pipeline.js";
import type { ModelVersion, VersionHooks } from "./registry.js";

/** The version of a pipeline loaded from --model, not from the registry: results name no version. */
const UNREGISTERED = "";

export interface FollowedPipeline {
  pipeline: PipelineLike;
  /** The version serving at start, if the registry had one. */
  version?: ModelVersion;
  /** Swaps to the registry's serving version if it changed; never throws (onError hears why it could not). */
  follow(): Promise<void>;
}

export interface FollowOptions {
  /** --model, used while the registry has no serving version. */
  loadModel: () => Promise<PipelineLike>;
  /** Loads a version's folder with the worker's settings. */
  loadVersion: (folder: string) => Promise<PipelineLike>;
  /** Following failed (the database unreachable, a version that does not load): the current model goes on. */
  onError?: (error: unknown) => void;
  /** Another version now serves here. */
  onSwap?: (version: string) => void;
  /** Run on each swap (the worker remembers each version's calibration: its routing thresholds). */
  hooks?: VersionHooks;
}

export async function followedPipeline(repository: JobRepository, options: FollowOptions): Promise<FollowedPipeline> {
  if (!repository.models) return { pipeline: await options.loadModel(), follow: async () => undefined };
  const store = repository.models();
  const version = await store.serving();
  const pipeline = new SwappablePipeline(version?.id ?? UNREGISTERED, version ? await options.loadVersion(version.folder) : await options.loadModel());
  // The folder argument only matters for reserve(), which a worker never calls.
  const registry = new FolderModelRegistry(store, ".", { pipeline, load: options.loadVersion, onCloseError: options.onError });
  if (options.hooks) registry.watch(options.hooks);
  return {
    pipeline,
    ...(version ? { version } : {}),
    follow: async () => {
      const before = pipeline.version;
      try {
        await registry.followServing();
      } catch (error) {
        options.onError?.(error);
        return;
      }
      if (pipeline.version !== before) options.onSwap?.(pipeline.version);
    },
  };
}
