// Hugging Face Hub download and cache, against a fake Hub on 127.0.0.1 (no internet): it answers
// resolve URLs as the real Hub does (X-Repo-Commit, ETag = git blob sha1 for regular files; a 302
// to a CDN path with X-Linked-Etag = sha256 and X-Linked-Size for LFS files; X-Error-Code on 404s;
// 401 for a private model without a token; a relative redirect for a renamed model) and serves the
// CDN path with Range support, optionally cutting one body short or corrupting it once. Checked:
// huggingface_hub's cache layout, no requests once cached, offline mode, the token header,
// resuming, optional files, errors (401, 404, network), revision pinning, sharded weights, the
// settings read from the environment, and the progress renderer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { NerkitError } from "../src/errors.js";
import { readSafetensors } from "../src/model/checkpoint/safetensors.js";
import { WritableTensor, encodeSafetensors } from "../src/model/checkpoint/safetensors-writer.js";
import { loadCheckpoint } from "../src/model/checkpoint/load-checkpoint.js";
import { ResolveModelOptions, resolveModel } from "../src/model/hub/resolve-model.js";
import { DownloadProgress } from "../src/model/hub/download.js";
import { hubSettings, parseModelId } from "../src/model/hub/settings.js";
import { createProgressRenderer, formatBytes, formatProgressLine } from "../src/model/hub/progress.js";
import { fixturesDir, tempDir } from "./helpers.js";
import { RepoCache } from "../src/model/hub/cache.js";
import { readModelCalibration } from "../src/model/checkpoint/calibration.js";
import { calibrationJson } from "../src/metrics/calibration-file.js";
import { temperatureCalibration } from "./calibration-cases.js";

const TINY = join(fixturesDir, "hf", "bert-tiny");
const TIMEOUT = { timeout: 30_000 };

// ---- the fake Hub -------------------------------------------------------------------------------

interface RepoFile {
  content: Buffer;
  lfs: boolean;
}
interface FakeRepo {
  refs: Record<string, string>;
  commits: Record<string, Record<string, RepoFile>>;
  token?: string;
}
interface Logged {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}
interface FakeHub {
  url: string;
  repos: Map<string, FakeRepo>;
  renamed: Map<string, string>;
  log: Logged[];
  /** sha256 of blobs whose next GET is cut off halfway. */
  cutOnce: Set<string>;
  /** sha256 of blobs whose next GET has a flipped byte. */
  corruptOnce: Set<string>;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const commitOf = (label: string) => createHash("sha1").update(label).digest("hex");

function serveBytes(req: IncomingMessage, res: ServerResponse, content: Buffer, hub: FakeHub, sha: string): void {
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  if (range) {
    start = Number(range[1]);
    if (start >= content.length) {
      res.writeHead(416, { "content-range": `bytes */${content.length}` }).end();
      return;
    }
  }
  let body = content.subarray(start);
  const headers: Record<string, string | number> = { "content-length": body.length, "accept-ranges": "bytes" };
  if (range) headers["content-range"] = `bytes ${start}-${content.length - 1}/${content.length}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD") return void res.end();
  if (hub.corruptOnce.delete(sha)) {
    body = Buffer.from(body);
    body[body.length >> 1] ^= 0xff;
  }
  if (hub.cutOnce.delete(sha)) {
    res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

function handle(hub: FakeHub, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? "/", hub.url).pathname;
  hub.log.push({ method: req.method ?? "", path, headers: req.headers });
  const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
  if (cdn) {
    for (const repo of hub.repos.values()) {
      for (const files of Object.values(repo.commits)) {
        for (const file of Object.values(files)) if (sha256(file.content) === cdn[1]) return serveBytes(req, res, file.content, hub, cdn[1]);
      }
    }
    return void res.writeHead(404).end();
  }
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return void res.writeHead(404).end();
  const [, repoId, rawRevision, rawFile] = m;
  const newName = hub.renamed.get(repoId);
  if (newName) return void res.writeHead(307, { location: path.replace(repoId, newName) }).end();
  const repo = hub.repos.get(repoId);
  if (repo?.token && req.headers.authorization !== `Bearer ${repo.token}`) {
    return void res.writeHead(401, { "x-error-code": "RepoNotFound", "x-error-message": "Invalid username or password." }).end();
  }
  if (!repo) return void res.writeHead(404, { "x-error-code": "RepoNotFound" }).end();
  const revision = decodeURIComponent(rawRevision);
  const commit = repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
  if (!commit) return void res.writeHead(404, { "x-error-code": "RevisionNotFound" }).end();
  const file = repo.commits[commit][rawFile.split("/").map(decodeURIComponent).join("/")];
  if (!file) return void res.writeHead(404, { "x-error-code": "EntryNotFound", "x-repo-commit": commit }).end();
  if (file.lfs) {
    const sha = sha256(file.content);
    return void res
      .writeHead(302, {
        location: `${hub.url}/cdn/${sha}`,
        "x-repo-commit": commit,
        "x-linked-etag": `"${sha}"`,
        "x-linked-size": file.content.length,
        etag: `W/"${gitSha1(Buffer.from("pointer " + sha))}"`,
        "content-length": 0,
      })
      .end();
  }
  res.setHeader("x-repo-commit", commit);
  res.setHeader("etag", `"${gitSha1(file.content)}"`);
  serveBytes(req, res, file.content, hub, "");
}

async function startHub(): Promise<FakeHub> {
  const hub = { repos: new Map(), renamed: new Map(), log: [], cutOnce: new Set(), corruptOnce: new Set() } as unknown as FakeHub;
  const server: Server = createServer((req, res) => handle(hub, req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return hub;
}

const read = (name: string) => readFileSync(join(TINY, name));
const MODEL_BYTES = read("model.safetensors");
const MODEL_SHA = sha256(MODEL_BYTES);
const MAIN = commitOf("main");
const V1 = commitOf("v1");

/** bert-tiny's files; `extra` is merged into config.json to tell revisions apart. */
function tinyFiles(extra: Record<string, unknown> = {}): Record<string, RepoFile> {
  const config = { ...JSON.parse(read("config.json").toString()), ...extra };
  return {
    "config.json": { content: Buffer.from(JSON.stringify(config, null, 2)), lfs: false },
    "model.safetensors": { content: MODEL_BYTES, lfs: true },
    "tokenizer.json": { content: read("tokenizer.json"), lfs: false },
    "tokenizer_config.json": { content: read("tokenizer_config.json"), lfs: false },
  };
}

function addTiny(hub: FakeHub, repoId = "acme/tiny", token?: string): void {
  hub.repos.set(repoId, {
    refs: { main: MAIN, v1: V1 },
    commits: { [MAIN]: tinyFiles(), [V1]: tinyFiles({ nerkit_revision: "v1" }) },
    token,
  });
}

function options(hub: FakeHub | { url: string }, cache: string, more: Partial<ResolveModelOptions> = {}): ResolveModelOptions {
  const { env, ...rest } = more;
  return { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, ...env }, retryDelayMs: 0, timeoutMs: 5000, ...rest };
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<NerkitError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof NerkitError)) throw error;
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return error;
  }
  assert.fail("expected a NerkitError");
}

async function withHub(fn: (hub: FakeHub, cache: string) => Promise<void>): Promise<void> {
  const hub = await startHub();
  try {
    await fn(hub, tempDir("nerkit-hub-"));
  } finally {
    await hub.close();
  }
}

// ---- downloads and the cache ----------------------------------------------------------------------

test("downloads into huggingface_hub's layout: blobs, snapshot symlinks, refs/main, .no_exist", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const events: DownloadProgress[] = [];
    const dir = await resolveModel("acme/tiny", options(hub, cache, { onProgress: (p) => events.push(p) }));
    const repo = join(cache, "models--acme--tiny");
    assert.equal(dir, join(repo, "snapshots", MAIN));
    assert.equal(readFileSync(join(repo, "refs", "main"), "utf8"), MAIN);
    const files = tinyFiles();
    for (const [name, file] of Object.entries(files)) {
      const etag = file.lfs ? sha256(file.content) : gitSha1(file.content);
      assert.ok(lstatSync(join(dir, name)).isSymbolicLink(), name);
      assert.equal(readlinkSync(join(dir, name)), join("..", "..", "blobs", etag));
      assert.deepEqual(readFileSync(join(dir, name)), file.content, name);
    }
    assert.deepEqual(readdirSync(join(repo, "blobs")).sort(), Object.values(files).map((f) => (f.lfs ? sha256(f.content) : gitSha1(f.content))).sort());
    for (const absent of ["vocab.txt", "vocab.json", "merges.txt", "special_tokens_map.json"]) {
      assert.ok(!existsSync(join(dir, absent)), absent);
      assert.ok(existsSync(join(repo, ".no_exist", MAIN, absent)), `${absent} remembered as absent`);
    }
    // The snapshot is a checkpoint folder: same tensors as the fixture.
    const checkpoint = loadCheckpoint(dir);
    const fixture = readSafetensors(join(TINY, "model.safetensors"));
    for (const name of fixture.names) assert.deepEqual(checkpoint.weights.tensor(name).data, fixture.tensor(name).data);
    // Progress: per file, non-decreasing, ending with done = total and finished.
    const model = events.filter((e) => e.file === "model.safetensors");
    assert.ok(model.length >= 2);
    for (let i = 1; i < model.length; i++) assert.ok(model[i].done >= model[i - 1].done);
    assert.deepEqual(model.at(-1), { file: "model.safetensors", done: MODEL_BYTES.length, total: MODEL_BYTES.length, finished: true });
    // The LFS file went through the CDN redirect; nothing was sent with a Range header.
    assert.ok(hub.log.some((r) => r.method === "GET" && r.path === `/cdn/${MODEL_SHA}`));
    assert.ok(hub.log.every((r) => r.headers.range === undefined));
  }),
);

test("a second call uses the cache without any request; HF_HOME/hub is the cache when HF_HUB_CACHE is unset", TIMEOUT, () =>
  withHub(async (hub, home) => {
    addTiny(hub);
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home };
    const first = await resolveModel("acme/tiny", { env, retryDelayMs: 0 });
    assert.ok(first.startsWith(join(home, "hub", "models--acme--tiny")));
    const count = hub.log.length;
    assert.equal(await resolveModel("acme/tiny", { env }), first);
    assert.equal(await resolveModel("acme/tiny@main", { env }), first);
    assert.equal(hub.log.length, count, "no request once cached");
    // refresh asks the Hub again, but downloads nothing new.
    await resolveModel("acme/tiny", { env, refresh: true });
    assert.ok(hub.log.length > count);
    assert.ok(hub.log.slice(count).every((r) => r.method === "HEAD"));
  }),
);

test("HF_HUB_OFFLINE=1: the cache only, and a clear error when the model is not there", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const offline = options(hub, cache, { env: { HF_HUB_OFFLINE: "1" } });
    await rejects(resolveModel("acme/tiny", offline), "E_IO", /HF_HUB_OFFLINE is set and acme\/tiny@main is not in the cache/);
    assert.equal(hub.log.length, 0);
    const dir = await resolveModel("acme/tiny", options(hub, cache));
    const count = hub.log.length;
    assert.equal(await resolveModel("acme/tiny", { ...offline, refresh: true }), dir);
    assert.equal(await resolveModel(`acme/tiny@${MAIN}`, offline), dir);
    await rejects(resolveModel("acme/tiny@v1", offline), "E_IO", /acme\/tiny@v1 is not in the cache/);
    assert.equal(hub.log.length, count, "offline mode sends nothing");
  }),
);

test("HF_TOKEN goes out as a bearer token; without it a private model's 401 says to set HF_TOKEN", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub, "acme/private", "hf_secret");
    await rejects(resolveModel("acme/private", options(hub, cache)), "E_IO", /access to acme\/private was denied \(HTTP 401\).*set HF_TOKEN/);
    await rejects(resolveModel("acme/private", options(hub, cache, { env: { HF_TOKEN: "hf_wrong" } })), "E_IO", /token in HF_TOKEN was refused/);
    hub.log.length = 0;
    const dir = await resolveModel("acme/private", options(hub, cache, { env: { HF_TOKEN: "hf_secret" } }));
    assert.ok(existsSync(join(dir, "model.safetensors")));
    const resolves = hub.log.filter((r) => r.path.includes("/resolve/"));
    assert.ok(resolves.length >= 4);
    for (const r of resolves) assert.equal(r.headers.authorization, "Bearer hf_secret", r.path);
  }),
);

test("an interrupted download resumes with a Range request, in the same call or the next", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const blobs = join(cache, "models--acme--tiny", "blobs");
    // No retries: the call fails and leaves the partial file behind.
    hub.cutOnce.add(MODEL_SHA);
    await rejects(resolveModel("acme/tiny", options(hub, cache, { retries: 0 })), "E_IO", /cannot download acme\/tiny .*HF_HUB_OFFLINE=1/);
    const partial = statSync(join(blobs, `${MODEL_SHA}.incomplete`)).size;
    assert.ok(partial > 0 && partial < MODEL_BYTES.length, `partial size ${partial}`);
    hub.log.length = 0;
    const dir = await resolveModel("acme/tiny", options(hub, cache));
    const gets = hub.log.filter((r) => r.method === "GET" && r.path === `/cdn/${MODEL_SHA}`);
    assert.deepEqual(gets.map((r) => r.headers.range), [`bytes=${partial}-`]);
    assert.equal(sha256(readFileSync(join(dir, "model.safetensors"))), MODEL_SHA);
    assert.deepEqual(readdirSync(blobs).filter((f) => f.endsWith(".incomplete") || f.endsWith(".lock")), []);

    // With retries (the default), one call gets through a cut-off body by itself.
    const cache2 = tempDir("nerkit-hub-");
    hub.cutOnce.add(MODEL_SHA);
    hub.log.length = 0;
    const dir2 = await resolveModel("acme/tiny", options(hub, cache2));
    const ranges = hub.log.filter((r) => r.method === "GET" && r.path === `/cdn/${MODEL_SHA}`).map((r) => r.headers.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? "", /^bytes=[1-9]\d*-$/);
    assert.deepEqual(readFileSync(join(dir2, "model.safetensors")), MODEL_BYTES);
  }),
);

test("a download whose sha256 does not match its LFS etag is refused and not cached", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    hub.corruptOnce.add(MODEL_SHA);
    await rejects(resolveModel("acme/tiny", options(hub, cache)), "E_IO", /model.safetensors from acme\/tiny: sha256 [0-9a-f]{64} does not match/);
    assert.deepEqual(readdirSync(join(cache, "models--acme--tiny", "blobs")).filter((f) => f.startsWith(MODEL_SHA)), []);
    const dir = await resolveModel("acme/tiny", options(hub, cache));
    assert.deepEqual(readFileSync(join(dir, "model.safetensors")), MODEL_BYTES);
  }),
);

test("revision pinning: @tag, --revision and commit hashes; blobs shared between snapshots", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const repo = join(cache, "models--acme--tiny");
    const v1 = await resolveModel("acme/tiny@v1", options(hub, cache));
    assert.equal(v1, join(repo, "snapshots", V1));
    assert.equal(readFileSync(join(repo, "refs", "v1"), "utf8"), V1);
    assert.equal(JSON.parse(readFileSync(join(v1, "config.json"), "utf8")).nerkit_revision, "v1");
    // Only config.json is asked for by tag; everything after it by the commit it resolved to.
    const resolves = hub.log.filter((r) => r.path.includes("/resolve/")).map((r) => r.path.split("/")[4]);
    assert.equal(resolves[0], "v1");
    assert.ok(resolves.slice(1).every((rev) => rev === V1), JSON.stringify(hub.log.map((r) => r.method + " " + r.path)));
    assert.equal(await resolveModel("acme/tiny", options(hub, cache, { revision: "v1" })), v1);

    const main = await resolveModel(`acme/tiny@${MAIN}`, options(hub, cache));
    assert.equal(main, join(repo, "snapshots", MAIN));
    assert.equal(JSON.parse(readFileSync(join(main, "config.json"), "utf8")).nerkit_revision, undefined);
    assert.deepEqual(readdirSync(join(repo, "refs")), ["v1"], "a commit hash writes no ref");
    assert.equal(hub.log.filter((r) => r.method === "GET" && r.path === `/cdn/${MODEL_SHA}`).length, 1, "the weights blob is downloaded once");
    await rejects(resolveModel("acme/tiny@nope", options(hub, cache)), "E_IO", /config.json@nope: revision not found in acme\/tiny/);
  }),
);

test("404s: an unknown model names itself; a model without safetensors weights is refused", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    await rejects(resolveModel("acme/missing", options(hub, cache)), "E_IO", /model acme\/missing was not found at http:\/\/127\.0\.0\.1:\d+ \(no local folder/);
    const files = tinyFiles();
    delete (files as Partial<typeof files>)["model.safetensors"];
    hub.repos.set("acme/pickle", { refs: { main: MAIN }, commits: { [MAIN]: files } });
    await rejects(resolveModel("acme/pickle", options(hub, cache)), "E_FORMAT", /acme\/pickle@main has no model.safetensors or model.safetensors.index.json/);
  }),
);

test("network failure: a clear error naming the way out, or the cached copy when there is one", TIMEOUT, async () => {
  const hub = await startHub();
  addTiny(hub);
  const cache = tempDir("nerkit-hub-");
  const dir = await resolveModel("acme/tiny", options(hub, cache));
  await hub.close(); // nothing listens on that port any more
  const gone = { url: hub.url };
  await rejects(
    resolveModel("acme/other", options(gone, cache, { retries: 1 })),
    "E_IO",
    /cannot download acme\/other from http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*local folder, or set HF_HUB_OFFLINE=1/,
  );
  assert.equal(await resolveModel("acme/tiny", options(gone, cache, { refresh: true, retries: 0 })), dir);
});

test("a renamed model's relative redirect is followed; sharded weights are fetched shard by shard", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    const source = readSafetensors(MODEL_BYTES);
    const halves: Array<Record<string, WritableTensor>> = [{}, {}];
    const weightMap: Record<string, string> = {};
    source.names.forEach((name, i) => {
      halves[i % 2][name] = source.tensor(name);
      weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
    });
    const files = tinyFiles();
    delete (files as Partial<typeof files>)["model.safetensors"];
    files["model.safetensors.index.json"] = { content: Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap })), lfs: false };
    halves.forEach((h, i) => (files[`model-0000${i + 1}-of-00002.safetensors`] = { content: Buffer.from(encodeSafetensors(h)), lfs: true }));
    hub.repos.set("acme/sharded", { refs: { main: MAIN }, commits: { [MAIN]: files } });
    hub.renamed.set("old/sharded", "acme/sharded");

    const dir = await resolveModel("old/sharded", options(hub, cache));
    assert.equal(dir, join(cache, "models--old--sharded", "snapshots", MAIN));
    assert.ok(existsSync(join(cache, "models--old--sharded", ".no_exist", MAIN, "model.safetensors")));
    const checkpoint = loadCheckpoint(dir);
    assert.equal(checkpoint.weightFiles.length, 3);
    for (const name of source.names) assert.deepEqual(checkpoint.weights.tensor(name).data, source.tensor(name).data);
    const count = hub.log.length;
    await resolveModel("old/sharded", options(hub, cache));
    assert.equal(hub.log.length, count, "a complete sharded snapshot needs no request");
  }),
);

test("a lock left by a process that died does not block the download", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const blobs = join(cache, "models--acme--tiny", "blobs");
    mkdirSync(blobs, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(blobs, `${MODEL_SHA}.lock`), String(dead));
    const dir = await resolveModel("acme/tiny", options(hub, cache));
    assert.deepEqual(readFileSync(join(dir, "model.safetensors")), MODEL_BYTES);
    assert.ok(!existsSync(join(blobs, `${MODEL_SHA}.lock`)));
  }),
);

test("a folder is used as it is; ids that are neither are E_USAGE", TIMEOUT, async () => {
  assert.equal(await resolveModel(TINY), TINY);
  await rejects(resolveModel(join(TINY, "config.json")), "E_USAGE", /is a file; give the folder/);
  for (const bad of ["./no/such/folder", "a/b/c", "acme/--x", "acme/x..y", "", "acme/tiny@", "acme/tiny@../x"]) {
    await rejects(resolveModel(bad, { env: {} }), "E_USAGE", /not a valid revision|neither a folder nor/);
  }
  await rejects(resolveModel("acme/tiny@v1", { env: {}, revision: "v2" }), "E_USAGE", /two revisions for acme\/tiny: @v1 and --revision v2/);
});

// ---- settings ----------------------------------------------------------------------------------

test("settings from the environment, as huggingface_hub reads them", () => {
  const home = homedir();
  const rows: Array<[Record<string, string>, Partial<ReturnType<typeof hubSettings>>]> = [
    [{}, { endpoint: "https://huggingface.co", cacheDir: join(home, ".cache", "huggingface", "hub"), token: undefined, offline: false }],
    [{ HF_HUB_CACHE: "/c", HF_HOME: "/h" }, { cacheDir: "/c" }],
    [{ HF_HOME: "/h", XDG_CACHE_HOME: "/x" }, { cacheDir: "/h/hub" }],
    [{ XDG_CACHE_HOME: "/x" }, { cacheDir: "/x/huggingface/hub" }],
    [{ HF_HOME: "~/hf" }, { cacheDir: join(home, "hf", "hub") }],
    [{ HF_ENDPOINT: "http://mirror.local:8080/" }, { endpoint: "http://mirror.local:8080" }],
    [{ HF_TOKEN: "a", HUGGING_FACE_HUB_TOKEN: "b" }, { token: "a" }],
    [{ HUGGING_FACE_HUB_TOKEN: "b" }, { token: "b" }],
    [{ HF_TOKEN: "" }, { token: undefined }],
    ...["1", "true", "YES", "on"].map((v): [Record<string, string>, { offline: boolean }] => [{ HF_HUB_OFFLINE: v }, { offline: true }]),
    ...["0", "false", ""].map((v): [Record<string, string>, { offline: boolean }] => [{ HF_HUB_OFFLINE: v }, { offline: false }]),
  ];
  for (const [env, expected] of rows) {
    const settings = hubSettings(env);
    for (const [key, value] of Object.entries(expected)) assert.equal(settings[key as keyof typeof settings], value, `${JSON.stringify(env)} ${key}`);
  }
  assert.throws(() => hubSettings({ HF_ENDPOINT: "ftp://x" }), (e) => e instanceof NerkitError && e.code === "E_USAGE");
});

test("model ids and revisions", () => {
  const rows: Array<[string, string | undefined, { repoId: string; revision: string }]> = [
    ["acme/tiny", undefined, { repoId: "acme/tiny", revision: "main" }],
    ["acme/tiny@v1.0", undefined, { repoId: "acme/tiny", revision: "v1.0" }],
    ["acme/tiny", "refs/pr/3", { repoId: "acme/tiny", revision: "refs/pr/3" }],
    ["bert-base-cased", undefined, { repoId: "bert-base-cased", revision: "main" }],
    [`dslim/bert-base-NER@${MAIN}`, MAIN, { repoId: "dslim/bert-base-NER", revision: MAIN }],
  ];
  for (const [text, revision, expected] of rows) assert.deepEqual(parseModelId(text, revision), expected);
});

// ---- progress rendering --------------------------------------------------------------------------

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 60, write: (s: string) => writes.push(s) } };
}

const P = (done: number, finished = false): DownloadProgress => ({ file: "model.safetensors", done, total: 2_000_000, finished });

test("progress: a bar redrawn in place on a terminal, plain start and end lines elsewhere", () => {
  const tty = fakeStream(true);
  const bar = createProgressRenderer(tty.stream);
  for (const p of [P(0), P(1000), P(1_000_000), P(1_000_000), P(2_000_000), P(2_000_000, true)]) bar.update(p);
  assert.ok(tty.writes.every((w) => w === "\n" || w.startsWith("\r")));
  assert.equal(tty.writes.at(-1), "\n");
  assert.equal(tty.writes.filter((w) => w.includes(" 50% 1.0 MB/2.0 MB")).length, 1, "an unchanged line is not redrawn");
  for (const w of tty.writes) assert.ok(w.replace("\r", "").replace("\x1b[K", "").length <= 59, w);
  bar.update(P(10));
  bar.end();
  assert.equal(tty.writes.at(-1), "\n");

  const log = fakeStream(false);
  const plain = createProgressRenderer(log.stream);
  for (const p of [P(0), P(1_000_000), P(2_000_000, true)]) plain.update(p);
  plain.update({ file: "config.json", done: 500, total: 1000, finished: false });
  assert.deepEqual(log.writes, ["downloading model.safetensors (2.0 MB)\n", "downloaded model.safetensors (2.0 MB)\n", "resuming config.json at 500 B (1.0 kB)\n"]);
});

test("progress: line formatting", () => {
  const rows: Array<[number, string]> = [[0, "0 B"], [999, "999 B"], [1000, "1.0 kB"], [438_000_000, "438.0 MB"], [5e12, "5.0 TB"]];
  for (const [bytes, text] of rows) assert.equal(formatBytes(bytes), text);
  assert.equal(formatProgressLine(P(500_000), 60), "model.safetensors [====>              ]  25% 500.0 kB/2.0 MB");
  assert.equal(formatProgressLine({ file: "x.json", done: 12, total: undefined, finished: false }, 60), "x.json 12 B");
  for (const width of [10, 20, 40, 80, 200]) assert.ok(formatProgressLine({ ...P(1), file: "a".repeat(100) }, width).length <= width);
});

test("a cache link that cannot be made names the snapshot file, never a temporary name", () => {
  const cache = new RepoCache(tempDir(), "owner/name");
  const commit = "0".repeat(40);
  mkdirSync(join(cache.snapshotDir(commit), "config.json", "in-the-way"), { recursive: true });
  mkdirSync(dirname(cache.blobPath("etag")), { recursive: true });
  writeFileSync(cache.blobPath("etag"), "{}");
  let error: unknown;
  try {
    cache.link(commit, "config.json", "etag");
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof NerkitError, `expected a NerkitError, got ${String(error)}`);
  assert.equal(error.code, "E_IO");
  assert.match(error.describe(), /config\.json/);
  assert.doesNotMatch(error.describe(), /\.tmp/);
  assert.deepEqual(readdirSync(cache.snapshotDir(commit)), ["config.json"], "no temporary link left behind");
});

test("a repository's calibration.json comes with the model (and is remembered as absent where there is none)", TIMEOUT, () =>
  withHub(async (hub, cache) => {
    addTiny(hub);
    const calibration = JSON.stringify(calibrationJson(temperatureCalibration(1.5)));
    hub.repos.get("acme/tiny")!.commits[MAIN]["calibration.json"] = { content: Buffer.from(calibration), lfs: false };
    const dir = await resolveModel("acme/tiny", options(hub, cache));
    assert.equal(readFileSync(join(dir, "calibration.json"), "utf8"), calibration);
    assert.equal(readModelCalibration(dir)?.temperature, 1.5);
    const v1 = await resolveModel("acme/tiny@v1", options(hub, cache));
    assert.ok(existsSync(join(cache, "models--acme--tiny", ".no_exist", V1, "calibration.json")), "absent at v1, remembered");
    assert.equal(readModelCalibration(v1), undefined);
  }),
);
