// One file from the Hub into the cache, the way huggingface_hub's hf_hub_download does it: a HEAD on
// {endpoint}/{repo}/resolve/{revision}/{file} gives the commit (X-Repo-Commit), the blob's name
// (X-Linked-Etag for LFS files, else ETag, without quotes or W/), its size (X-Linked-Size, else
// Content-Length) and where to GET it (the Location of a redirect to the CDN). The GET appends to
// blobs/<etag>.incomplete, resuming with a Range header after an interruption; the result is checked
// against the size and, for LFS files (whose etag is a sha256), the hash, then renamed into place.
// A lock file keeps two processes from writing the same blob. Left out: Xet storage's chunked
// protocol (the Hub still serves Xet files over plain GET) and parallel downloads of one file.

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { createReadStream, existsSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { NerkitError } from "../../errors.js";
import { Agents, HttpResponse, NetworkFailure, header, request } from "./http.js";
import { HubSettings, resolveUrl } from "./settings.js";

export interface DownloadProgress {
  /** The file's path in the repository. */
  file: string;
  /** Bytes on disk so far (a resumed download starts above 0). */
  done: number;
  /** The file's size, when the server says it. */
  total: number | undefined;
  /** The file is complete (verified and in the cache). */
  finished: boolean;
}

export interface DownloadContext {
  repoId: string;
  settings: HubSettings;
  agents: Agents;
  timeoutMs: number;
  /** Further tries after a network failure (each resumes where the last stopped). */
  retries: number;
  retryDelayMs: number;
  /** How long to wait for another process's lock on a blob. */
  lockWaitMs: number;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface FileMetadata {
  commit: string | undefined;
  etag: string | undefined;
  size: number | undefined;
  /** Where to GET the content: the resolve URL, or the CDN URL it redirects to. */
  location: string;
}

function baseHeaders(ctx: DownloadContext): Record<string, string> {
  const headers: Record<string, string> = { "user-agent": "nerkit; node" };
  if (ctx.settings.token) headers.authorization = `Bearer ${ctx.settings.token}`;
  return headers;
}

/** "W/\"abc\"" -> "abc", as huggingface_hub's _normalize_etag. */
export function normalizeEtag(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

/** An HTTP answer that is not a success, as a NerkitError a user can act on (5xx: NetworkFailure). */
export function statusError(ctx: DownloadContext, response: HttpResponse, what: string): Error {
  const { repoId, settings } = ctx;
  const status = response.status;
  const code = header(response, "x-error-code");
  const tokenHint = settings.token
    ? "the token in HF_TOKEN was refused or cannot read it; check its access"
    : "if it is private or gated, set HF_TOKEN to a Hugging Face access token that can read it";
  if (code === "GatedRepo") {
    return new NerkitError("E_IO", `${repoId} is gated (HTTP ${status}): accept its conditions on its Hub page, then set HF_TOKEN to a token of that account`);
  }
  if (status === 401 || status === 403) {
    return new NerkitError("E_IO", `access to ${repoId} was denied (HTTP ${status}) at ${settings.endpoint}: ${tokenHint}`);
  }
  if (code === "RepoNotFound") {
    return new NerkitError("E_IO", `model ${repoId} was not found at ${settings.endpoint} (no local folder of that name either); ${tokenHint}`);
  }
  if (code === "RevisionNotFound") return new NerkitError("E_IO", `${what}: revision not found in ${repoId}`);
  if (status >= 500) return new NetworkFailure(`${settings.endpoint} answered HTTP ${status} for ${what}`);
  return new NerkitError("E_IO", `${what}: unexpected HTTP ${status} from ${response.url}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn` again after a NetworkFailure, up to `ctx.retries` more times, waiting longer each time. */
export async function withRetries<T>(ctx: DownloadContext, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof NetworkFailure) || attempt >= ctx.retries) throw error;
      await sleep(ctx.retryDelayMs * 2 ** attempt);
    }
  }
}

/** HEAD of a file at a revision: its metadata, or "missing" when the Hub says it does not exist. */
export function fileMetadata(ctx: DownloadContext, revision: string, file: string): Promise<FileMetadata | "missing"> {
  const url = resolveUrl(ctx.settings.endpoint, ctx.repoId, revision, file);
  return withRetries(ctx, async () => {
    const response = await request(url, { method: "HEAD", headers: baseHeaders(ctx), timeoutMs: ctx.timeoutMs, agents: ctx.agents }, "relative");
    response.body.resume();
    const code = header(response, "x-error-code");
    if (response.status === 404 && (code === undefined || code === "EntryNotFound")) return "missing";
    if (response.status >= 400 || response.status < 200) throw statusError(ctx, response, `${file}@${revision}`);
    const size = Number(header(response, "x-linked-size") ?? header(response, "content-length"));
    const location = response.status >= 300 ? header(response, "location") : undefined;
    return {
      commit: header(response, "x-repo-commit"),
      etag: normalizeEtag(header(response, "x-linked-etag") ?? header(response, "etag")),
      size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
      location: location ? new URL(location, response.url).href : response.url,
    };
  });
}

function sizeOnDisk(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** One GET of the rest of the file into `incomplete`; a cut-off connection is a NetworkFailure. */
async function fetchRest(ctx: DownloadContext, file: string, meta: FileMetadata, incomplete: string): Promise<void> {
  let have = sizeOnDisk(incomplete);
  if (meta.size !== undefined && have > meta.size) {
    removeFile(incomplete);
    have = 0;
  }
  if (meta.size !== undefined && have === meta.size && have > 0) return;
  const headers = baseHeaders(ctx);
  if (new URL(meta.location).origin !== new URL(ctx.settings.endpoint).origin) delete headers.authorization;
  if (have > 0) headers.range = `bytes=${have}-`;
  const response = await request(meta.location, { method: "GET", headers, timeoutMs: ctx.timeoutMs, agents: ctx.agents }, "all");
  if (response.status === 416 || (response.status === 206 && !header(response, "content-range")?.startsWith(`bytes ${have}-`))) {
    // The server will not continue from where we stopped: start again from byte 0.
    response.body.resume();
    removeFile(incomplete);
    throw new NetworkFailure(`${file}: the server could not resume the download`);
  }
  if (response.status !== 200 && response.status !== 206) {
    response.body.resume();
    throw statusError(ctx, response, file);
  }
  if (response.status === 200) have = 0; // the Range header was ignored: the whole file follows
  const length = Number(header(response, "content-length"));
  const total = meta.size ?? (Number.isSafeInteger(length) ? have + length : undefined);
  const handle = await open(incomplete, have > 0 ? "a" : "w");
  let received = 0;
  try {
    ctx.onProgress?.({ file, done: have, total, finished: false });
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      await handle.write(chunk);
      received += chunk.length;
      ctx.onProgress?.({ file, done: have + received, total, finished: false });
    }
  } catch (error) {
    if (error instanceof NerkitError) throw error;
    throw new NetworkFailure(`${file}: download interrupted after ${have + received} bytes (${(error as Error).message})`);
  } finally {
    await handle.close();
  }
  if (Number.isSafeInteger(length) && received < length) {
    throw new NetworkFailure(`${file}: the connection closed after ${have + received} of ${have + length} bytes`);
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Takes `${blob}.lock`, waiting (bounded) for another live process that holds it. */
async function lock(ctx: DownloadContext, lockPath: string, file: string): Promise<() => void> {
  const release = () => removeFile(lockPath);
  const deadline = Date.now() + ctx.lockWaitMs;
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = Number(readFileSync(lockPath, "utf8"));
    let alive = false;
    try {
      alive = Number.isSafeInteger(pid) && pid > 0 && (process.kill(pid, 0), true);
    } catch (error) {
      alive = (error as NodeJS.ErrnoException).code === "EPERM";
    }
    if (!alive) {
      removeFile(lockPath); // left by a process that died
      continue;
    }
    if (Date.now() >= deadline) {
      throw new NerkitError("E_IO", `${file}: another process (pid ${pid}) is downloading it into the cache; wait for it, or remove ${lockPath}`);
    }
    await sleep(200);
  }
}

/** Downloads the content described by `meta` into `blobPath`, resuming and verifying it. */
export async function downloadBlob(ctx: DownloadContext, file: string, meta: FileMetadata, blobPath: string): Promise<void> {
  mkdirSync(dirname(blobPath), { recursive: true });
  const release = await lock(ctx, `${blobPath}.lock`, file);
  try {
    if (existsSync(blobPath)) return; // another process finished it while we waited
    const incomplete = `${blobPath}.incomplete`;
    await withRetries(ctx, () => fetchRest(ctx, file, meta, incomplete));
    const size = sizeOnDisk(incomplete);
    if (meta.size !== undefined && size !== meta.size) {
      removeFile(incomplete);
      throw new NerkitError("E_IO", `${file} from ${ctx.repoId}: downloaded ${size} bytes, expected ${meta.size}; run again to download it anew`);
    }
    if (meta.etag !== undefined && /^[0-9a-f]{64}$/.test(meta.etag)) {
      const digest = await sha256Of(incomplete);
      if (digest !== meta.etag) {
        removeFile(incomplete);
        throw new NerkitError("E_IO", `${file} from ${ctx.repoId}: sha256 ${digest} does not match ${meta.etag}; the download was corrupted, run again`);
      }
    }
    renameSync(incomplete, blobPath);
    ctx.onProgress?.({ file, done: size, total: size, finished: true });
  } finally {
    release();
  }
}
