// nerkit worker: annotates the batch jobs that `nerkit serve --queue` puts on a Redis queue, reading
// the documents from and writing the results to the server's database. Start as many as the
// machines allow; each takes --concurrency chunks at a time. SIGINT or SIGTERM stop taking chunks,
// finish the ones in progress and release the model; a worker killed outright loses nothing, its
// chunks are taken again by another worker once their lock expires (--lock-duration-ms, hidden:
// tests shorten it).

import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { Command, Option } from "commander";
import { NerkitError } from "../../errors.js";
import { resolveRouting } from "../../postprocess/routing.js";
import { annotator } from "../../serve/jobs/annotate.js";
import { ChunkWorker } from "../../serve/jobs/chunk-worker.js";
import { Chunk, assertRedisClient, redisConnection } from "../../serve/jobs/chunks.js";
import { isPostgresUrl, openRepository } from "../../serve/storage/open.js";
import { JobRepository, StorageUnavailableError } from "../../serve/storage/repository.js";
import { CommandIO } from "../io.js";
import { Quantization } from "../../model/export/export-model.js";
import { TypeThresholds, integer, probability, quantizeOption, typeThreshold } from "../options.js";
import { openPipeline } from "./predict.js";

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
}

/** The server's database: a SQLite file must exist already (a new, empty one would hold no job). */
async function openJobDatabase(db: string): Promise<JobRepository> {
  if (!isPostgresUrl(db) && (db === ":memory:" || !existsSync(db))) {
    throw new NerkitError("E_USAGE", `--db ${db}: no job database there; give the --db of the \`nerkit serve --queue\` server (a SQLite file it created, or its postgres:// URL)`);
  }
  try {
    return await openRepository(db);
  } catch (error) {
    if (error instanceof StorageUnavailableError) throw new NerkitError("E_IO", `cannot open the job database: ${error.message}`, { file: db });
    throw error;
  }
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
    .option("--concurrency <n>", "chunks annotated at a time by this process", integer("--concurrency"), 1)
    .option("--threshold <type=accept[:review]>", "thresholds for one entity type (repeat for more), e.g. PER=0.9:0.7", typeThreshold, {})
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .addOption(quantizeOption())
    .option("--revision <rev>", "Hub revision for a Hub id")
    .option("--accept <x>", "entities scoring at least x are accepted, for chunks that do not carry the server's thresholds", probability("--accept"), 0.95)
    .option("--review <x>", "entities scoring at least x (below --accept) go to review, for chunks that do not carry the server's thresholds", probability("--review"), 0.8)
    .addOption(new Option("--lock-duration-ms <n>", "how long a chunk stays locked without renewal").argParser(integer("--lock-duration-ms")).default(30_000).hideHelp())
    .addOption(new Option("--stalled-interval-ms <n>", "how often to look for chunks whose lock expired").argParser(integer("--stalled-interval-ms")).default(30_000).hideHelp())
    .action(async (options: WorkerCommandOptions) => {
      assertRedisClient();
      const connection = redisConnection(options.queue);
      if (options.review > options.accept) throw new NerkitError("E_USAGE", `--review (${options.review}) must not exceed --accept (${options.accept})`);
      resolveRouting({ accept: options.accept, review: options.review, perType: options.threshold });
      if (options.concurrency < 1) throw new NerkitError("E_USAGE", `--concurrency must be at least 1, got ${options.concurrency}`);
      const repository = await openJobDatabase(options.db);
      try {
        const pipeline = await openPipeline(options.model, { revision: options.revision, threads: options.threads, quantize: options.quantize });
        try {
          const run = (texts: string[]) => pipeline.run(texts, { aggregation: "simple" });
          // Chunks carry the server's routing; these flags are for chunks queued without it.
          const fallback = { accept: options.accept, review: options.review, perType: options.threshold };
          const annotateFor = (chunk: Chunk) => annotator(run, chunk.routing ?? fallback);
          const name = `${hostname()}:${process.pid}`;
          const worker = new ChunkWorker(repository, annotateFor, {
            connection,
            name,
            concurrency: options.concurrency,
            lockDurationMs: options.lockDurationMs,
            stalledIntervalMs: options.stalledIntervalMs,
            onFailure: (chunk, error, final) =>
              io.stderr(`nerkit: documents ${chunk.first}-${chunk.last} of job ${chunk.jobId} failed${final ? " for the last time, the job is marked failed" : ", to be retried"}: ${error.message}\n`),
          });
          const stopped = untilSignal(io);
          // Not awaited: a Redis that cannot be reached yet must not keep a signal from stopping the worker.
          void worker.ready().then(
            () => io.stderr(`nerkit: worker ${name} ready: ${options.model}, queue ${connection.host}:${connection.port}/${connection.db}, ${options.concurrency} chunk(s) at a time\n`),
            () => undefined,
          );
          await stopped;
          await worker.close();
        } finally {
          await pipeline.close();
        }
      } finally {
        await repository.close();
      }
    });
}
