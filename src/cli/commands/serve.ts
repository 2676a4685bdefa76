// nerkit serve: the HTTP service (src/serve/app.ts) on a host and port. It listens at once, so
// /healthz answers while the model loads and /readyz once it has; SIGINT or SIGTERM stop taking
// requests, finish the ones in progress and release the model. With --queue, batch jobs are left to
// `nerkit worker` processes (worker.ts).

import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { buildApp } from "../../serve/app.js";
import { DEFAULT_CONFIG, ServeConfig, loadApiKeys, parseBytes } from "../../serve/config.js";
import { assertRedisClient, redisConnection } from "../../serve/jobs/chunks.js";
import { CommandIO } from "../io.js";
import { Quantization } from "../../model/export/export-model.js";
import { TypeThresholds, integer, probability, quantizeOption, typeThreshold } from "../options.js";
import { openPipeline } from "./predict.js";

/** The flags named as the settings they set, and the command's own. */
interface ServeCommandOptions
  extends Pick<
    ServeConfig,
    | "maxBatch" | "maxWaitMs" | "maxQueue" | "bodyLimit" | "accept" | "review" | "db" | "queue"
    | "maxTexts" | "maxTextChars" | "maxCharsInFlight" | "requestTimeoutMs" | "headersTimeoutMs" | "keepAliveTimeoutMs" | "maxConnections"
  > {
  model: string;
  port: number;
  host: string;
  apiKeyFile?: string;
  threshold: TypeThresholds;
  threads?: number;
  quantize?: Quantization;
  revision?: string;
  log: boolean;
}

function bytes(value: string): number {
  return parseBytes(value);
}

export function serveCommand(io: CommandIO): Command {
  return new Command("serve")
    .description("HTTP service: entities, redaction, batch jobs, the review queue, a web UI at /, /metrics, OpenAPI at /docs")
    .requiredOption("--model <dir|hub-id>", "checkpoint folder or Hugging Face id")
    .option("--port <n>", "TCP port", integer("--port"), 8080)
    .option("--host <host>", "address to listen on (0.0.0.0 for every interface)", "127.0.0.1")
    .option("--api-key-file <file>", "file with one API key per line (NERKIT_API_KEYS, comma-separated, adds keys); without keys, no authentication")
    .option("--max-batch <n>", "texts per model run", integer("--max-batch"), 16)
    .option("--max-wait-ms <n>", "how long a text waits for others to share its run", integer("--max-wait-ms"), 5)
    .option("--max-queue <n>", "texts allowed to wait; beyond, 503 with Retry-After", integer("--max-queue"), 256)
    .option("--body-limit <size>", "largest request body (1mb, 512kb, bytes)", bytes, 1024 * 1024)
    .option("--max-texts <n>", "texts per request; more is 413", integer("--max-texts"), DEFAULT_CONFIG.maxTexts)
    .option("--max-text-chars <n>", "characters per text (/v1/entities, /v1/redact); more is 413", integer("--max-text-chars"), DEFAULT_CONFIG.maxTextChars)
    .option("--max-chars-in-flight <n>", "characters of all requests being read at once; beyond, 503 with Retry-After", integer("--max-chars-in-flight"), DEFAULT_CONFIG.maxCharsInFlight)
    .option("--request-timeout-ms <n>", "a request (headers and body) must arrive within this, or its connection is closed", integer("--request-timeout-ms"), DEFAULT_CONFIG.requestTimeoutMs)
    .option("--headers-timeout-ms <n>", "a request's headers must arrive within this", integer("--headers-timeout-ms"), DEFAULT_CONFIG.headersTimeoutMs)
    .option("--keep-alive-timeout-ms <n>", "an idle kept-alive connection is closed after this", integer("--keep-alive-timeout-ms"), DEFAULT_CONFIG.keepAliveTimeoutMs)
    .option("--max-connections <n>", "open connections at most (each holds a file descriptor); more are closed at once", integer("--max-connections"), DEFAULT_CONFIG.maxConnections)
    .option("--accept <x>", "entities scoring at least x are accepted", probability("--accept"), 0.95)
    .option("--review <x>", "entities scoring at least x (below --accept) go to review; below, rejected", probability("--review"), 0.8)
    .option("--threshold <type=accept[:review]>", "thresholds for one entity type (repeat for more), e.g. PER=0.9:0.7", typeThreshold, {})
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .addOption(quantizeOption())
    .option("--revision <rev>", "Hub revision for a Hub id")
    .option("--db <path>", "SQLite file of the batch jobs (POST /v1/jobs), or a postgres:// URL; :memory: keeps them in memory only", "./nerkit.db")
    .option("--queue <url>", "redis://host:port[/db]: batch jobs go to this queue, for `nerkit worker` processes, instead of being annotated here", (url: string) => (assertRedisClient(), redisConnection(url), url))
    .option("--no-log", "no request log (JSON lines on stdout)")
    .action(async (options: ServeCommandOptions) => {
      const apiKeys = loadApiKeys(options.apiKeyFile);
      const pipeline = openPipeline(options.model, { revision: options.revision, threads: options.threads, quantize: options.quantize });
      const app = await buildApp({
        pipeline,
        logger: options.log ? { level: "info" } : false,
        config: {
          maxBatch: options.maxBatch,
          maxWaitMs: options.maxWaitMs,
          maxQueue: options.maxQueue,
          bodyLimit: options.bodyLimit,
          maxTexts: options.maxTexts,
          maxTextChars: options.maxTextChars,
          maxCharsInFlight: options.maxCharsInFlight,
          requestTimeoutMs: options.requestTimeoutMs,
          headersTimeoutMs: options.headersTimeoutMs,
          keepAliveTimeoutMs: options.keepAliveTimeoutMs,
          maxConnections: options.maxConnections,
          accept: options.accept,
          review: options.review,
          perType: options.threshold,
          apiKeys,
          redactSalt: process.env.NERKIT_REDACT_SALT || undefined,
          db: options.db,
          queue: options.queue,
        },
      });
      // A model that fails to load is the user's mistake (a wrong path or id): stop with its message.
      pipeline.catch(() => undefined);
      let address: string;
      try {
        address = await app.listen({ port: options.port, host: options.host });
      } catch (error) {
        await app.close();
        const e = error as NodeJS.ErrnoException;
        throw new NerkitError("E_USAGE", `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`);
      }
      io.stderr(`nerkit: listening on ${address} (${apiKeys.length > 0 ? `${apiKeys.length} API key(s)` : "no authentication"}); loading ${options.model}\n`);
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: string) => {
          io.stderr(`nerkit: ${signal}: closing\n`);
          process.off("SIGINT", onInt).off("SIGTERM", onTerm);
          app.close().then(() => resolve(), reject);
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt).on("SIGTERM", onTerm);
        pipeline.then(
          () => io.stderr("nerkit: model loaded, ready\n"),
          (error) => {
            process.off("SIGINT", onInt).off("SIGTERM", onTerm);
            app.close().then(() => reject(error), reject);
          },
        );
      });
    });
}
