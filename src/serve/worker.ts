// runWorker: the process behind `nerkit worker`, as one function. It opens the server's job
// database (creating a SQLite one the server has not created yet, so a worker may start first),
// checks that Redis answers (an unreachable one is a start-up error, not a wait), loads the model (the
// model registry's serving version, read again before each chunk: models/worker-models.ts), takes chunks from the BullMQ queue that `nerkit serve --queue` fills, annotates
// them as the server would (annotate.ts, read whole: reading.ts; with the server's --target-precision,
// on the thresholds of the version that read each text: models/version-routing.ts) and stores the results;
// with `retrain`, it also takes retrains from their own queue, one at a time (retrain/retrain-worker.ts); once
// `stop` resolves it takes no more chunks, finishes those in progress, and releases the model and
// the database. What it leaves out: resolving a Hub id, signals and printing (the CLI's, through
// `loadPipeline`, `stop` and the callbacks).

import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { NerkitError } from "../errors.js";
import { RoutingOptions, resolveRouting } from "../postprocess/routing.js";
import { annotator } from "./jobs/annotate.js";
import { ChunkWorker } from "./jobs/chunk-worker.js";
import { Chunk, RedisConnection, assertRedisClient, redisConnection } from "./jobs/chunks.js";
import { checkRedis } from "./jobs/redis-check.js";
import { OpenRepositoryOptions, isPostgresUrl, openRepository } from "./storage/open.js";
import { sqliteFolderProblem } from "./storage/check.js";
import { redactedUrl } from "./storage/postgres-errors.js";
import { JobRepository, StorageUnavailableError } from "./storage/repository.js";
import { PipelineLike, readScoredTexts } from "./reading.js";
import { followedPipeline } from "./models/worker-models.js";
import { RetrainWorker } from "./retrain/retrain-worker.js";
import { VersionCalibrations } from "./models/version-routing.js";

export interface WorkerOptions {
  /** redis://host:port[/db]: the server's --queue. */
  queue: string;
  /** The server's --db: its SQLite file or postgres:// URL. */
  db: string;
  /** PostgreSQL: the bounds on a statement and on connecting (storage/postgres.ts's defaults when left out). */
  dbQueryTimeoutMs?: number;
  dbConnectTimeoutMs?: number;
  /** Loads the model, once the database is open (while the model registry has no serving version). */
  loadPipeline: () => Promise<PipelineLike>;
  /** Loads a model version's folder (the registry's serving one: models/worker-models.ts); without it, --model always. */
  loadVersion?: (folder: string) => Promise<PipelineLike>;
  /** Another model version now annotates the chunks (a promotion), or following one failed. */
  onModelSwap?: (version: string) => void;
  onModelFollowError?: (error: unknown) => void;
  /** Chunks annotated at a time. */
  concurrency: number;
  /** Thresholds for chunks queued without the server's. */
  routing: RoutingOptions;
  /** How long start-up waits for Redis to answer before failing (jobs/redis-check.ts). */
  redisTimeoutMs?: number;
  /** How long a chunk stays locked without a renewal. */
  lockDurationMs?: number;
  /** How often to look for chunks whose lock expired. */
  stalledIntervalMs?: number;
  /** `nerkit worker --retrain`: also run the retrains `serve --queue` puts on the queue, with the
   * registry's folder (the server's --models, on a shared filesystem) and the trainer's threads. */
  retrain?: { modelsDir: string; threads?: number; onLog?: (retrainId: string, line: string) => void };
  /** Resolves when the worker should stop taking chunks. */
  stop: Promise<unknown>;
  /** The SQLite --db did not exist and was created (empty: it must be the server's --db for jobs to come). */
  onDatabaseCreated?: (path: string) => void;
  /** The worker is connected and taking chunks. */
  onReady?: (worker: { name: string; connection: RedisConnection; modelVersion?: string; retrain: boolean }) => void;
  /** A chunk attempt failed; final: no attempt is left and the job was marked failed. */
  onFailure?: (chunk: Chunk, error: Error, final: boolean) => void;
  /** A line about a BullMQ or Redis error (Redis went away...), at most one per errorLogIntervalMs. */
  onQueueError?: (line: string) => void;
  errorLogIntervalMs?: number;
  /** A storage call found the database unavailable and is tried again after delayMs (jobs/storage-retry.ts). */
  onStorageRetry?: (error: StorageUnavailableError, delayMs: number) => void;
}

/** The server's database. A SQLite file the server has not created yet (it does so on its first
 * job) is created and migrated here, so a worker may start first; a folder it cannot be created in
 * is an error, as is ":memory:", which no server shares. */
async function openJobDatabase(db: string, timeouts: OpenRepositoryOptions, onCreated?: (path: string) => void): Promise<JobRepository> {
  if (db === ":memory:") {
    throw new NerkitError("E_USAGE", "--db :memory: holds no job of the server's; give the --db of the `nerkit serve --queue` server (its SQLite file or postgres:// URL)");
  }
  const creating = !isPostgresUrl(db) && !existsSync(db);
  const problem = creating ? sqliteFolderProblem(db) : undefined;
  if (problem) throw new NerkitError("E_IO", `--db ${db}: cannot create the job database: ${problem}`);
  let repository: JobRepository;
  try {
    repository = await openRepository(db, timeouts);
  } catch (error) {
    // The URL without its password: the message ends up in logs.
    if (error instanceof StorageUnavailableError) throw new NerkitError("E_IO", `cannot open the job database: ${error.message}`, { file: isPostgresUrl(db) ? redactedUrl(db) : db });
    throw error;
  }
  if (creating) onCreated?.(db);
  return repository;
}

/** Runs until `options.stop` resolves and the chunks in progress are stored. Bad options are usage errors, raised before anything opens. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  assertRedisClient();
  const connection = redisConnection(options.queue);
  resolveRouting(options.routing);
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1)) throw new NerkitError("E_USAGE", `--concurrency must be at least 1, got ${options.concurrency}`);
  const repository = await openJobDatabase(options.db, { queryTimeoutMs: options.dbQueryTimeoutMs, connectTimeoutMs: options.dbConnectTimeoutMs }, options.onDatabaseCreated);
  try {
    // An unreachable Redis is a start-up failure, before the model loads: BullMQ would wait for it for ever.
    await checkRedis(connection, options.redisTimeoutMs);
    // Each version's calibration.json, read as it comes to serve: chunks from a server started with
    // --target-precision are routed on the thresholds of the version that read each text.
    const calibrations = new VersionCalibrations();
    const hooks = { prepare: (v: { id: string; folder: string }) => void calibrations.remember(v) };
    const { pipeline, follow, version } = options.loadVersion
      ? await followedPipeline(repository, { loadModel: options.loadPipeline, loadVersion: options.loadVersion, onSwap: options.onModelSwap, onError: options.onModelFollowError, hooks })
      : { pipeline: await options.loadPipeline(), follow: async () => undefined, version: undefined };
    if (version) calibrations.remember(version);
    try {
      // The registry's serving version is read before each chunk: a promotion reaches the next one.
      const run = async (texts: string[]) => (await follow(), readScoredTexts(pipeline, texts));
      // A type the version's calibration records no threshold for goes to review (version-routing.ts).
      const routingFor = (chunk: Chunk) => (chunk.routing && chunk.precision ? (v: string | undefined) => calibrations.routing(chunk.routing!, chunk.precision, v) : (chunk.routing ?? options.routing));
      const annotateFor = (chunk: Chunk) => annotator(run, routingFor(chunk));
      const name = `${hostname()}:${process.pid}`;
      const worker = new ChunkWorker(repository, annotateFor, {
        connection,
        name,
        concurrency: options.concurrency,
        lockDurationMs: options.lockDurationMs,
        stalledIntervalMs: options.stalledIntervalMs,
        onFailure: options.onFailure,
        onError: options.onQueueError,
        errorLogIntervalMs: options.errorLogIntervalMs,
        storageRetry: { onRetry: options.onStorageRetry },
      });
      const retrains = options.retrain && new RetrainWorker(repository, {
        connection,
        name,
        modelsDir: options.retrain.modelsDir,
        threads: options.retrain.threads,
        lockDurationMs: options.lockDurationMs,
        stalledIntervalMs: options.stalledIntervalMs,
        onLog: options.retrain.onLog,
        onError: options.onQueueError,
        errorLogIntervalMs: options.errorLogIntervalMs,
      });
      // Not awaited: a Redis that cannot be reached yet must not keep `stop` from stopping the worker.
      void Promise.all([worker.ready(), retrains?.ready()]).then(() => options.onReady?.({ name, connection, retrain: retrains !== undefined, ...(version ? { modelVersion: version.id } : {}) }), () => undefined);
      await options.stop;
      // A running retrain is stopped (recorded failed) while the chunks in progress finish.
      await Promise.all([worker.close(), retrains?.close()]);
    } finally {
      await pipeline.close();
    }
  } finally {
    await repository.close();
  }
}
