// Where models come from and go: the Hub's address, the cache folder, the token and offline mode,
// read from the same environment variables huggingface_hub reads (HF_ENDPOINT, HF_HUB_CACHE,
// HF_HOME, XDG_CACHE_HOME, HF_TOKEN, HF_HUB_OFFLINE), so nerkit and Python share one cache. Also
// model ids ("owner/name@revision"), their cache folder names and their file URLs. Pure functions
// of their arguments (the environment is passed in). Left out: the token file written by
// `huggingface-cli login` (set HF_TOKEN instead), datasets and spaces (models only).

import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { NerkitError } from "../../errors.js";

export const DEFAULT_ENDPOINT = "https://huggingface.co";
export const DEFAULT_REVISION = "main";

export interface HubSettings {
  /** Without a trailing slash. */
  endpoint: string;
  /** The hub cache root, holding models--owner--name folders. */
  cacheDir: string;
  token?: string;
  offline: boolean;
}

export interface HubOverrides {
  endpoint?: string;
  cacheDir?: string;
  token?: string;
  offline?: boolean;
}

type Env = Record<string, string | undefined>;

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** huggingface_hub's truthy values for boolean variables. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "ON", "YES", "TRUE"].includes(value.trim().toUpperCase());
}

export function hubSettings(env: Env, overrides: HubOverrides = {}): HubSettings {
  const endpoint = (overrides.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new NerkitError("E_USAGE", `HF_ENDPOINT ${JSON.stringify(endpoint)} is not an http(s) URL`);
  }
  const hfHome = nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), ".cache"), "huggingface");
  const cacheDir = overrides.cacheDir ?? nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(expandHome(hfHome), "hub");
  return {
    endpoint,
    cacheDir: resolve(expandHome(cacheDir)),
    token: overrides.token ?? nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN),
    offline: overrides.offline ?? isTrue(env.HF_HUB_OFFLINE),
  };
}

export interface ModelId {
  repoId: string;
  revision: string;
}

// huggingface_hub's validate_repo_id: an optional namespace, word characters, "-" and ".", no "--"
// or "..", at most 96 characters, each part starting and ending with a word character.
const REPO_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

export function isRepoId(text: string): boolean {
  const parts = text.split("/");
  return text.length <= 96 && parts.length <= 2 && parts.every((p) => REPO_PART.test(p)) && !text.includes("--") && !text.includes("..");
}

/** A revision names a branch, tag or commit; it also becomes a path under refs/, so no "..". */
function isRevision(text: string): boolean {
  const parts = text.split("/");
  return text.length > 0 && text.length <= 255 && !/[\s\\:?*\x00-\x1f]/.test(text) && parts.every((p) => p !== "" && p !== "." && p !== "..");
}

export function isCommitHash(text: string): boolean {
  return /^[0-9a-f]{40}$/.test(text);
}

/** "owner/name", "owner/name@revision"; `revision` (the CLI's --revision) may give it instead. */
export function parseModelId(text: string, revision?: string): ModelId {
  const at = text.indexOf("@");
  const repoId = at < 0 ? text : text.slice(0, at);
  const inline = at < 0 ? undefined : text.slice(at + 1);
  if (!isRepoId(repoId)) {
    throw new NerkitError("E_USAGE", `${JSON.stringify(text)} is neither a folder nor a Hugging Face model id (owner/name or owner/name@revision)`);
  }
  if (inline !== undefined && revision !== undefined && inline !== revision) {
    throw new NerkitError("E_USAGE", `two revisions for ${repoId}: @${inline} and --revision ${revision}`);
  }
  const chosen = inline ?? revision ?? DEFAULT_REVISION;
  if (!isRevision(chosen)) throw new NerkitError("E_USAGE", `${JSON.stringify(chosen)} is not a valid revision for ${repoId}`);
  return { repoId, revision: chosen };
}

/** The cache folder of a model repository, as huggingface_hub names it: models--owner--name. */
export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** {endpoint}/{repo}/resolve/{revision}/{file}, with the revision and each path part escaped. */
export function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file.split("/").map(encodeURIComponent).join("/")}`;
}
