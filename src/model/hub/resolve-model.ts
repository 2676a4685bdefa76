// resolveModel: a model given as a folder is used as it is; given as a Hugging Face id
// ("owner/name", "owner/name@revision") it is fetched into the shared cache and its snapshot folder
// returned. What is fetched is what nerkit reads: config.json, the safetensors weights (one file, or
// the index and its shards), the tokenizer files that exist and the model's calibration.json if it
// has one (nerkit calibrate: a calibrated model scores alike from the Hub). A revision already complete in the
// cache is used without asking the Hub (pass `refresh` to ask); HF_HUB_OFFLINE=1 never asks. When
// the Hub cannot be reached, a usable cached snapshot is used, as huggingface_hub does. Left out:
// listing a repository's files (optional files are probed, a 404 recorded in .no_exist), and
// pytorch_model.bin weights.

import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { NerkitError } from "../../errors.js";
import { CALIBRATION_FILE } from "../../metrics/calibration-file.js";
import { parseShardIndex, SHARD_INDEX_FILE } from "../checkpoint/sharded.js";
import { RepoCache } from "./cache.js";
import { DownloadContext, DownloadProgress, FileMetadata, downloadBlob, fileMetadata } from "./download.js";
import { NetworkFailure, createAgents } from "./http.js";
import { HubOverrides, HubSettings, hubSettings, isCommitHash, parseModelId, resolveUrl } from "./settings.js";

export interface ResolveModelOptions extends HubOverrides {
  /** Branch, tag or commit; "owner/name@revision" gives it too. Default "main". */
  revision?: string;
  /** Where HF_* variables are read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Ask the Hub for the revision's current commit even when the cache has it. */
  refresh?: boolean;
  onProgress?: (progress: DownloadProgress) => void;
  /** Idle time before a request fails; default 30 s. */
  timeoutMs?: number;
  /** Further tries after a network failure, each resuming the download; default 3. */
  retries?: number;
  retryDelayMs?: number;
}

const CONFIG = "config.json";
const WEIGHTS = "model.safetensors";
/** Tokenizer files and calibration.json: whichever of these the repository has (a 404 is not an error). */
export const OPTIONAL_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", CALIBRATION_FILE];

/** Shard names of a cached index, or undefined when it is absent or unreadable. */
function cachedShards(cache: RepoCache, commit: string): string[] | undefined {
  if (!cache.has(commit, SHARD_INDEX_FILE)) return undefined;
  const path = resolve(cache.snapshotDir(commit), SHARD_INDEX_FILE);
  try {
    return [...new Set(parseShardIndex(readFileSync(path, "utf8"), path).weightMap.values())];
  } catch {
    return undefined;
  }
}

/** The snapshot has config.json and all of its weights: enough to load the model. */
function usable(cache: RepoCache, commit: string): boolean {
  if (!cache.has(commit, CONFIG)) return false;
  if (cache.has(commit, WEIGHTS)) return true;
  const shards = cachedShards(cache, commit);
  return shards !== undefined && shards.every((s) => cache.has(commit, s));
}

/** Usable, and every optional file is either there or known not to exist. */
function complete(cache: RepoCache, commit: string): boolean {
  return usable(cache, commit) && OPTIONAL_FILES.every((f) => cache.has(commit, f) || cache.isMarkedMissing(commit, f));
}

function offlineError(repoId: string, revision: string, settings: HubSettings): NerkitError {
  return new NerkitError(
    "E_IO",
    `HF_HUB_OFFLINE is set and ${repoId}@${revision} is not in the cache (${settings.cacheDir}); run once without HF_HUB_OFFLINE, or give the model as a folder`,
  );
}

function networkError(repoId: string, settings: HubSettings, failure: NetworkFailure): NerkitError {
  return new NerkitError(
    "E_IO",
    `cannot download ${repoId} from ${settings.endpoint}: ${failure.message}. Give the model as a local folder, or set HF_HUB_OFFLINE=1 to use a cached copy`,
  );
}

/** Puts one file of the commit into the snapshot, downloading its blob unless cached. */
async function fetchFile(ctx: DownloadContext, cache: RepoCache, commit: string, file: string, meta: FileMetadata): Promise<void> {
  if (cache.has(commit, file)) return;
  const etag = meta.etag;
  if (etag === undefined || !/^[A-Za-z0-9._-]+$/.test(etag) || etag.startsWith(".")) {
    throw new NerkitError("E_IO", `${file} from ${ctx.repoId}: the server sent no usable ETag (${JSON.stringify(etag)}); is HF_ENDPOINT a Hugging Face Hub?`);
  }
  const blob = cache.blobPath(etag);
  if (!existsSync(blob)) await downloadBlob(ctx, file, meta, blob);
  cache.link(commit, file, etag);
}

/** Downloads what is missing from the snapshot of `revision`; returns its commit. */
async function download(ctx: DownloadContext, cache: RepoCache, revision: string): Promise<string> {
  const { repoId } = ctx;
  const configMeta = await fileMetadata(ctx, revision, CONFIG);
  if (configMeta === "missing") {
    throw new NerkitError("E_IO", `${repoId}@${revision} has no ${CONFIG} at ${ctx.settings.endpoint}: is it a transformers model?`);
  }
  const commit = configMeta.commit;
  if (commit === undefined || !isCommitHash(commit)) {
    throw new NerkitError("E_IO", `${ctx.settings.endpoint} sent no commit hash (X-Repo-Commit) for ${repoId}: is HF_ENDPOINT a Hugging Face Hub?`);
  }
  cache.writeRef(revision, commit);
  // Fetch config.json by commit too, so that a branch moving between the HEAD and the GET cannot
  // put another version's content under this version's etag.
  const byRevision = resolveUrl(ctx.settings.endpoint, repoId, revision, CONFIG);
  const location = configMeta.location === byRevision ? resolveUrl(ctx.settings.endpoint, repoId, commit, CONFIG) : configMeta.location;
  await fetchFile(ctx, cache, commit, CONFIG, { ...configMeta, location });

  /** Fetches a file of this commit; "missing" when the repository does not have it. */
  const fetchAtCommit = async (file: string): Promise<"ok" | "missing"> => {
    if (cache.has(commit, file)) return "ok";
    const meta = await fileMetadata(ctx, commit, file);
    if (meta === "missing") return "missing";
    await fetchFile(ctx, cache, commit, file, meta);
    return "ok";
  };

  if (!cache.isMarkedMissing(commit, WEIGHTS) && (await fetchAtCommit(WEIGHTS)) === "missing") cache.markMissing(commit, WEIGHTS);
  if (!cache.has(commit, WEIGHTS)) {
    if ((await fetchAtCommit(SHARD_INDEX_FILE)) === "missing") {
      throw new NerkitError("E_FORMAT", `${repoId}@${revision} has no ${WEIGHTS} or ${SHARD_INDEX_FILE}; nerkit reads safetensors weights only`);
    }
    const indexPath = resolve(cache.snapshotDir(commit), SHARD_INDEX_FILE);
    const shards = new Set(parseShardIndex(readFileSync(indexPath, "utf8"), indexPath).weightMap.values());
    for (const shard of shards) {
      if ((await fetchAtCommit(shard)) === "missing") {
        throw new NerkitError("E_FORMAT", `${repoId}@${revision}: shard ${shard} named in ${SHARD_INDEX_FILE} is not in the repository`);
      }
    }
  }
  for (const file of OPTIONAL_FILES) {
    if (!cache.isMarkedMissing(commit, file) && (await fetchAtCommit(file)) === "missing") cache.markMissing(commit, file);
  }
  return commit;
}

/**
 * A local folder holding the model: `idOrDir` itself when it is a folder, else the cache snapshot
 * of the Hugging Face model it names, downloaded as needed.
 */
export async function resolveModel(idOrDir: string, options: ResolveModelOptions = {}): Promise<string> {
  if (existsSync(idOrDir)) {
    if (statSync(idOrDir).isDirectory()) return resolve(idOrDir);
    throw new NerkitError("E_USAGE", "is a file; give the folder that holds config.json and the weights", { file: idOrDir });
  }
  const { repoId, revision } = parseModelId(idOrDir, options.revision);
  const settings = hubSettings(options.env ?? process.env, options);
  const cache = new RepoCache(settings.cacheDir, repoId);
  const known = isCommitHash(revision) ? revision : cache.readRef(revision);

  if (known !== undefined && !options.refresh && complete(cache, known)) return cache.snapshotDir(known);
  if (settings.offline) {
    if (known !== undefined && usable(cache, known)) return cache.snapshotDir(known);
    throw offlineError(repoId, revision, settings);
  }
  const agents = createAgents();
  const ctx: DownloadContext = {
    repoId,
    settings,
    agents,
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: options.retries ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    lockWaitMs: 10 * 60_000,
    onProgress: options.onProgress,
  };
  try {
    return cache.snapshotDir(await download(ctx, cache, revision));
  } catch (error) {
    if (!(error instanceof NetworkFailure)) {
      if (error instanceof NerkitError) throw error;
      throw new NerkitError("E_IO", `cannot write the model cache for ${repoId} in ${settings.cacheDir}: ${(error as Error).message}`);
    }
    // Like huggingface_hub: with the Hub out of reach, a cached copy of the revision will do.
    if (known !== undefined && usable(cache, known)) return cache.snapshotDir(known);
    throw networkError(repoId, settings, error);
  } finally {
    agents.close();
  }
}
