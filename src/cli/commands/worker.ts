// nerkit worker: annotates the batch jobs that `nerkit serve --queue` puts on a Redis queue, reading
// the documents from and writing the results to the server's database. Start as many as the
// machines allow; each takes --concurrency chunks at a time. SIGINT or SIGTERM stop taking chunks,
// finish the ones in progress and release the model; a worker killed outright loses nothing, its
// chunks are taken again by another worker once their lock expires (--lock-duration-ms, hidden:
// tests shorten it). With --retrain it also runs the retrains that `serve --queue` queues (POST
// /v1/retrain, --retrain-after), one at a time, its trainer a child process here: give it only to
// workers on machines with the memory and time to train; the others annotate only. The work is runWorker's (src/serve/worker.ts); this command parses the
// options, turns the first SIGINT or SIGTERM into its `stop`, and prints what it reports.

import { Command, Option } from "commander";
import { NerkitError } from "../../errors.js";
import { runWorker } from "../../serve/worker.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS } from "../../serve/storage/postgres-timeouts.js";
import { CommandIO, processIO } from "../io.js";
import { Quantization } from "../../model/export/export-model.js";
import { TypeThresholds, integer, probability, quantizeOption, typeThreshold } from "../options.js";
import { openPipeline } from "./predict.js";

/** How long a stopped worker lets stray timers run before it exits anyway. */
const EXIT_AFTER_STOP_MS = 500;

interface WorkerCommandOptions {
  model: string;
  db: string;
  queue: string;
  concurrency: number;
  threads?: number;
  quantize?: Quantization;
  revision?: string;
  accept: number;
  review: number;
  threshold: TypeThresholds;
  lockDurationMs: number;
  stalledIntervalMs: number;
  calibration: boolean;
  dbQueryTimeoutMs: number;
  dbConnectTimeoutMs: number;
  retrain: boolean;
  models: string;
}

function untilSignal(io: CommandIO): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      io.stderr(`nerkit: ${signal}: finishing the chunks in progress\n`);
      process.off("SIGINT", onInt).off("SIGTERM", onTerm);
      resolve();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt).on("SIGTERM", onTerm);
  });
}

export function workerCommand(io: CommandIO): Command {
  return new Command("worker")
    .description("annotate the batch jobs that `nerkit serve --queue` puts on a Redis queue; run as many as you like")
    .requiredOption("--model <dir|hub-id>", "checkpoint folder or Hugging Face id (the server's model)")
    .requiredOption("--queue <url>", "redis://host:port[/db]: the server's --queue")
    .option("--db <path>", "the server's --db: its SQLite file or postgres:// URL", "./nerkit.db")
    .option("--db-query-timeout-ms <n>", "PostgreSQL: a statement running, or unanswered, this long fails as 'database unavailable' (the chunk waits and retries)", integer("--db-query-timeout-ms"), DEFAULT_QUERY_TIMEOUT_MS)
    .option("--db-connect-timeout-ms <n>", "PostgreSQL: opening a connection that takes this long fails as 'database unavailable'", integer("--db-connect-timeout-ms"), DEFAULT_CONNECT_TIMEOUT_MS)
    .option("--concurrency <n>", "chunks annotated at a time by this process", integer("--concurrency"), 1)
    .option("--threshold <type=accept[:review]>", "thresholds for one entity type (repeat for more), e.g. PER=0.9:0.7", typeThreshold, {})
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .addOption(quantizeOption())
    .option("--revision <rev>", "Hub revision for a Hub id")
    .option("--no-calibration", "ignore the model folder's calibration.json (give it to the server too: both must score alike)")
    .option("--accept <x>", "entities scoring at least x are accepted, for chunks that do not carry the server's thresholds", probability("--accept"), 0.95)
    .option("--review <x>", "entities scoring at least x (below --accept) go to review, for chunks that do not carry the server's thresholds", probability("--review"), 0.8)
    .option("--retrain", "also run the server's retrains (fine-tune, gate, promote), one at a time, on this machine; without it this worker only annotates")
    .option("--models <dir>", "with --retrain: the server's --models folder (shared with it), where a retrain writes the new version", "./nerkit-models")
    .addOption(new Option("--lock-duration-ms <n>", "how long a chunk stays locked without renewal").argParser(integer("--lock-duration-ms")).default(30_000).hideHelp())
    .addOption(new Option("--stalled-interval-ms <n>", "how often to look for chunks whose lock expired").argParser(integer("--stalled-interval-ms")).default(30_000).hideHelp())
    .action(async (options: WorkerCommandOptions) => {
      if (options.review > options.accept) throw new NerkitError("E_USAGE", `--review (${options.review}) must not exceed --accept (${options.accept})`);
      await runWorker({
        queue: options.queue,
        db: options.db,
        dbQueryTimeoutMs: options.dbQueryTimeoutMs,
        dbConnectTimeoutMs: options.dbConnectTimeoutMs,
        loadPipeline: () => openPipeline(options.model, { revision: options.revision, threads: options.threads, quantize: options.quantize, calibration: options.calibration, offMainThread: true }),
        loadVersion: (folder) => openPipeline(folder, { threads: options.threads, quantize: options.quantize, calibration: options.calibration, offMainThread: true }),
        onModelSwap: (version) => io.stderr(`nerkit: worker: model version ${version} promoted: annotating with it from now on\n`),
        onModelFollowError: (error) => io.stderr(`nerkit: worker: cannot follow the model registry (the current model goes on): ${(error as Error).message}\n`),
        concurrency: options.concurrency,
        // Chunks carry the server's routing; these flags are for chunks queued without it.
        routing: { accept: options.accept, review: options.review, perType: options.threshold },
        lockDurationMs: options.lockDurationMs,
        stalledIntervalMs: options.stalledIntervalMs,
        ...(options.retrain ? { retrain: { modelsDir: options.models, threads: options.threads, onLog: (id: string, line: string) => io.stderr(`nerkit: worker: retrain ${id}: ${line}\n`) } } : {}),
        stop: untilSignal(io),
        onDatabaseCreated: (path) => io.stderr(`nerkit: ${path} did not exist: created an empty job database (the server's --db: its jobs will be read from there)\n`),
        onReady: ({ name, connection, modelVersion, retrain }) =>
          io.stderr(`nerkit: worker ${name} ready: ${modelVersion ? `model version ${modelVersion} (the registry's serving version)` : options.model}, queue ${connection.host}:${connection.port}/${connection.db}, ${options.concurrency} chunk(s) at a time${retrain ? `, and retrains (models folder ${options.models})` : ""}\n`),
        onQueueError: (line) => io.stderr(`nerkit: worker: ${line}\n`),
        onFailure: (chunk, error, final) =>
          io.stderr(`nerkit: documents ${chunk.first}-${chunk.last} of job ${chunk.jobId} failed${final ? " for the last time, the job is marked failed" : ", to be retried"}: ${error.message}\n`),
        onStorageRetry: (error, delayMs) => io.stderr(`nerkit: ${error.message}; trying again in ${delayMs / 1000} s\n`),
      });
      // Stopped, chunks stored, model and database released. BullMQ may leave timers behind after
      // losing Redis (retries up to 5 s away); they hold nothing of ours, so they do not hold the exit
      // either. Unref'd: it fires only if something else still keeps the process alive; and only in
      // the `nerkit` process itself, never in a program that runs the CLI in process.
      if (io === processIO) setTimeout(() => process.exit(), EXIT_AFTER_STOP_MS).unref();
    });
}
