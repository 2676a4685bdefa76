// nerkit serve: the HTTP service (src/serve/app.ts) on a host and port. Before it listens it checks
// what would otherwise fail later, behind a port that looks healthy: settings that contradict each
// other (config.ts), the --db (storage/check.ts), the --queue's Redis (jobs/redis-check.ts) and the model, which it loads; each failure is one
// line naming the flag, exit 2, and nothing listening. SIGINT or SIGTERM stop taking requests,
// finish the ones in progress and release the model. With --queue, batch jobs are left to
// `nerkit worker` processes (worker.ts). With --target-precision, the accept thresholds come from
// the served version's calibration.json (serve/precision-routing.ts), checked before the model loads;
// after a promotion, from the new version's (a promotion to a version that lacks one is refused:
// serve/models/version-routing.ts).
// The model served is the model registry's serving version (--models, serve/models/serving-registry.ts):
// --model itself, recorded as v1, on the first start only.

import { randomInt } from "node:crypto";
import { Command } from "commander";
import { NerkitError } from "../../errors.js";
import { buildApp } from "../../serve/app.js";
import { DEFAULT_CONFIG, ServeConfig, loadApiKeys, parseBytes, serveConfig } from "../../serve/config.js";
import { checkJobDatabase } from "../../serve/storage/check.js";
import { isPostgresUrl } from "../../serve/storage/open.js";
import { redactedUrl } from "../../serve/storage/postgres-errors.js";
import { REVIEW_ORDERS, StorageUnavailableError } from "../../serve/storage/repository.js";
import { NerPipeline } from "../../infer/pipeline.js";
import { assertRedisClient, redisConnection } from "../../serve/jobs/chunks.js";
import { checkRedis } from "../../serve/jobs/redis-check.js";
import { CommandIO } from "../io.js";
import { Quantization } from "../../model/export/export-model.js";
import { TypeThresholds, integer, oneOf, positiveNumber, probability, quantizeOption, typeThreshold } from "../options.js";
import { openPipeline } from "./predict.js";
import { DEFAULT_CONFIDENCE, PrecisionTargets, addPrecisionTarget, noTargets } from "../../metrics/precision-thresholds.js";
import { PrecisionAsk, askedTargets, describeTargets, precisionAsk, targetThresholds } from "../../serve/precision-routing.js";
import { readModelCalibration } from "../../model/checkpoint/calibration.js";
import { resolveModel } from "../../model/hub/resolve-model.js";
import { loadReferenceProfile } from "../../serve/drift/reference.js";
import { ServingRegistry, openServingRegistry } from "../../serve/models/serving-registry.js";
import { RetrainFlags, retrainOptions, serveRetrain } from "../retrain-options.js";

/** The flags named as the settings they set, and the command's own. */
interface ServeCommandOptions
  extends RetrainFlags, Pick<
    ServeConfig,
    | "maxBatch" | "maxWaitMs" | "maxQueue" | "bodyLimit" | "accept" | "review" | "db" | "queue" | "sweepIntervalMs" | "retainDays" | "dbQueryTimeoutMs" | "dbConnectTimeoutMs"
    | "maxTexts" | "maxTextChars" | "maxJobDocuments" | "driftWindow" | "driftPsi" | "driftMinDocuments" | "maxCharsInFlight" | "requestTimeoutMs" | "headersTimeoutMs" | "keepAliveTimeoutMs" | "maxConnections"
    | "auditRate" | "auditSeed" | "reviewOrder" | "reviewSeed" | "reviewUncertain"
  > {
  targetPrecision: PrecisionTargets;
  confidence: number;
  model: string;
  models: string;
  port: number;
  host: string;
  apiKeyFile?: string;
  threshold: TypeThresholds;
  threads?: number;
  quantize?: Quantization;
  revision?: string;
  log: boolean;
  calibration: boolean;
  retrainAfter?: number;
}

function days(value: string): number {
  const n = Number(value);
  if (!(value.trim() !== "" && Number.isFinite(n) && n > 0)) throw new NerkitError("E_USAGE", `--retain-days expects a number of days > 0, got '${value}'`);
  return n;
}

function bytes(value: string): number {
  return parseBytes(value);
}

export function serveCommand(io: CommandIO): Command {
  const serve = new Command("serve")
    .description("HTTP service: entities, redaction, batch jobs, the review queue, a web UI at /, /metrics, OpenAPI at /docs")
    .requiredOption("--model <dir|hub-id>", "checkpoint folder or Hugging Face id")
    .option("--port <n>", "TCP port", integer("--port"), 8080)
    .option("--host <host>", "address to listen on (0.0.0.0 for every interface)", "127.0.0.1")
    .option("--api-key-file <file>", "file with one API key per line (NERKIT_API_KEYS, comma-separated, adds keys); without keys, no authentication")
    .option("--max-batch <n>", "texts per model run", integer("--max-batch"), 16)
    .option("--max-wait-ms <n>", "how long a text waits for others to share its run", integer("--max-wait-ms"), 5)
    .option("--max-queue <n>", "texts allowed to wait; beyond, 503 with Retry-After", integer("--max-queue"), 256)
    .option("--body-limit <size>", "largest request body (1mb, 512kb, bytes)", bytes, 1024 * 1024)
    .option("--max-texts <n>", `texts per request; more is 413 (default ${DEFAULT_CONFIG.maxTexts}, or --max-queue when smaller)`, integer("--max-texts"))
    .option("--max-text-chars <n>", "characters per text (/v1/entities, /v1/redact, each document of a batch job); more is 413", integer("--max-text-chars"), DEFAULT_CONFIG.maxTextChars)
    .option("--max-job-documents <n>", "documents per batch job (POST /v1/jobs); more is 413", integer("--max-job-documents"), DEFAULT_CONFIG.maxJobDocuments)
    .option("--max-chars-in-flight <n>", "characters of all requests being read at once; beyond, 503 with Retry-After", integer("--max-chars-in-flight"), DEFAULT_CONFIG.maxCharsInFlight)
    .option("--request-timeout-ms <n>", "a request (headers and body) must arrive within this, or its connection is closed", integer("--request-timeout-ms"), DEFAULT_CONFIG.requestTimeoutMs)
    .option("--headers-timeout-ms <n>", "a request's headers must arrive within this", integer("--headers-timeout-ms"), DEFAULT_CONFIG.headersTimeoutMs)
    .option("--keep-alive-timeout-ms <n>", "an idle kept-alive connection is closed after this", integer("--keep-alive-timeout-ms"), DEFAULT_CONFIG.keepAliveTimeoutMs)
    .option("--max-connections <n>", "open connections at most (each holds a file descriptor); more are closed at once", integer("--max-connections"), DEFAULT_CONFIG.maxConnections)
    .option("--accept <x>", "entities scoring at least x are accepted", probability("--accept"), 0.95)
    .option("--review <x>", "entities scoring at least x (below --accept) go to review; below, rejected", probability("--review"), 0.8)
    .option("--threshold <type=accept[:review]>", "thresholds for one entity type (repeat for more), e.g. PER=0.9:0.7", typeThreshold, {})
    .option("--target-precision <x|type=x>", "route on the accept thresholds `nerkit calibrate --target-precision` recorded in the model's calibration.json: 0.95 for every type, PER=0.97 for one (repeat for more); replaces --accept for the types it covers, --review stays (clamped to the accept threshold)", addPrecisionTarget, noTargets())
    .option("--confidence <c>", "the confidence of the recorded thresholds to route on (with --target-precision)", probability("--confidence"), DEFAULT_CONFIDENCE)
    .option("--audit-rate <x>", "share of auto-accepted batch-job documents also sent to review, marked audit, for an unbiased precision estimate (0: none)", probability("--audit-rate"), 0.05)
    .option("--audit-seed <n>", "seed of the audit draw (default: drawn at start and printed); the same seed draws the same documents", integer("--audit-seed"))
    .option("--threads <n>", "CPU threads for ONNX Runtime (default: all cores)", integer("--threads"))
    .addOption(quantizeOption())
    .option("--revision <rev>", "Hub revision for a Hub id")
    .option("--models <dir>", "the model registry's folder: a folder per model version (v1 is a copy of --model, made on the first start; later starts serve the registry's serving version)", "./nerkit-models")
    .option("--db <path>", "SQLite file of the batch jobs (POST /v1/jobs), or a postgres:// URL; :memory: keeps them in memory only", "./nerkit.db")
    .option("--db-query-timeout-ms <n>", "PostgreSQL: a statement running, or unanswered, this long fails as 'database unavailable' (a job waits and retries)", integer("--db-query-timeout-ms"), DEFAULT_CONFIG.dbQueryTimeoutMs)
    .option("--db-connect-timeout-ms <n>", "PostgreSQL: opening a connection that takes this long fails as 'database unavailable'", integer("--db-connect-timeout-ms"), DEFAULT_CONFIG.dbConnectTimeoutMs)
    .option("--retain-days <n>", "delete finished batch jobs (with their results and reviews) created more than n days ago; checked at start and hourly (default: keep them)", days)
    .option("--queue <url>", "redis://host:port[/db]: batch jobs go to this queue, for `nerkit worker` processes, instead of being annotated here", (url: string) => (assertRedisClient(), redisConnection(url), url))
    .option("--sweep-interval-ms <n>", "how often batch jobs that nothing works on (a lost chunk, a dead worker, a database that was locked) are picked up again, and (with --queue) a retrain whose worker died is marked failed", integer("--sweep-interval-ms"), 10_000)
    .option("--drift-window <n>", "drift monitoring: the last n documents annotated here are compared with the model's reference-profile.json", integer("--drift-window"), DEFAULT_CONFIG.driftWindow)
    .option("--drift-psi <x>", "drift alert (nerkit_drift_alert, GET /v1/monitor) when a statistic's population stability index exceeds x", positiveNumber("--drift-psi"), DEFAULT_CONFIG.driftPsi)
    .option("--drift-min-documents <n>", "documents the window needs before drift may alert (default: 200, or --drift-window when smaller)", integer("--drift-min-documents"))
    .option("--review-order <order>", "order of GET /v1/review: uncertainty (most informative documents first, near-duplicates spread), random (a seeded shuffle) or fifo (oldest job first); audit documents come first in the first two", oneOf("--review-order", REVIEW_ORDERS), DEFAULT_CONFIG.reviewOrder)
    .option("--review-uncertain <u>", "a batch-job document whose informativeness (mean normalised entropy of its 10 least certain words, 0 to 1, as GET /v1/review shows it) is at least u goes to review even when no entity does, or it has none: the place where missed entities are found (default: off)", probability("--review-uncertain"))
    .option("--review-seed <n>", "seed of --review-order random: the same seed gives the same order", integer("--review-seed"), DEFAULT_CONFIG.reviewSeed)
    .option("--no-log", "no request log (JSON lines on stdout)")
    .option("--no-calibration", "ignore the model folder's calibration.json: route on raw scores (entities then carry no raw_score)");
  // The retrain options last: they matter only where retrains run (/v1/retrain, --retrain-after).
  return retrainOptions(serve)
    .option("--retrain-after <n>", "start a retrain (POST /v1/retrain) once n reviews came since the last one started", integer("--retrain-after"))
    .action(async (options: ServeCommandOptions, command: Command) => {
      const apiKeys = loadApiKeys(options.apiKeyFile);
      // Checked now for what needs no model (--confidence, one target per type, no --threshold for a
      // type a target covers); the thresholds are read from the served version's calibration.json before it loads.
      const asked = askedPrecision(options);
      let targets = asked ? targetThresholds(undefined, askedTargets(asked), asked.confidence, options.model, "review") : [];
      const auditSeed = options.auditSeed ?? randomInt(2 ** 31);
      const config = serveConfig({
        targets,
        auditRate: options.auditRate,
        auditSeed,
        reviewOrder: options.reviewOrder,
        reviewSeed: options.reviewSeed,
        reviewUncertain: options.reviewUncertain,
        maxBatch: options.maxBatch,
        maxWaitMs: options.maxWaitMs,
        maxQueue: options.maxQueue,
        bodyLimit: options.bodyLimit,
        accept: options.accept,
        review: options.review,
        perType: options.threshold,
        apiKeys,
        redactSalt: process.env.NERKIT_REDACT_SALT || undefined,
        db: options.db,
        dbQueryTimeoutMs: options.dbQueryTimeoutMs,
        dbConnectTimeoutMs: options.dbConnectTimeoutMs,
        queue: options.queue,
        sweepIntervalMs: options.sweepIntervalMs,
        retainDays: options.retainDays,
        maxTexts: options.maxTexts,
        maxTextChars: options.maxTextChars,
        maxJobDocuments: options.maxJobDocuments,
        maxCharsInFlight: options.maxCharsInFlight,
        requestTimeoutMs: options.requestTimeoutMs,
        headersTimeoutMs: options.headersTimeoutMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs,
        maxConnections: options.maxConnections,
        driftWindow: options.driftWindow,
        driftPsi: options.driftPsi,
        driftMinDocuments: options.driftMinDocuments,
      });
      await checkDatabase(config);
      if (config.queue) await checkRedis(redisConnection(config.queue));
      const models = await openModels(options, config, io, (folder, label) => {
        if (asked) targets = targetThresholds(readModelCalibration(folder), askedTargets(asked), asked.confidence, label);
      });
      const drift = loadReferenceProfile(models.version.folder);
      if ("reason" in drift) io.stderr(`nerkit: drift monitoring is off: ${drift.reason}\n`);
      const retrain = serveRetrain(options, models.registry, options.threads);
      const app = await buildApp({ pipeline: models.pipeline, registry: models.registry, logger: options.log ? { level: "info" } : false, config: { ...config, targets }, ...(asked ? { precision: asked } : {}), drift, retrain });
      app.addHook("onClose", () => models.close());
      let address: string;
      try {
        address = await app.listen({ port: options.port, host: options.host });
      } catch (error) {
        await app.close();
        const e = error as NodeJS.ErrnoException;
        throw new NerkitError("E_USAGE", `cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`);
      }
      io.stderr(`nerkit: listening on ${address} (${apiKeys.length > 0 ? `${apiKeys.length} API key(s)` : "no authentication"}); model loaded, ready\n`);
      // After the listening line: a start-up failure stays one line (nothing else is printed before it).
      io.stderr(servingLine(models, options));
      if (targets.length > 0) io.stderr(`nerkit: routing on precision targets: ${describeTargets(targets)}\n`);
      if (targets.some((t) => t.type === "*") && command.getOptionValueSource("accept") === "cli") {
        io.stderr("nerkit: warning: --accept is not used: --target-precision sets the accept threshold of every type\n");
      }
      if (config.auditRate > 0) io.stderr(`nerkit: audit sample: ${config.auditRate} of auto-accepted batch-job documents also go to review (seed ${auditSeed}; --audit-seed ${auditSeed} draws the same documents)\n`);
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: string) => {
          io.stderr(`nerkit: ${signal}: closing\n`);
          process.off("SIGINT", onInt).off("SIGTERM", onTerm);
          app.close().then(() => resolve(), reject);
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt).on("SIGTERM", onTerm);
      });
    });
}

/** --target-precision and --confidence as asked (none without the flag). */
function askedPrecision(options: ServeCommandOptions): PrecisionAsk | undefined {
  const asked = options.targetPrecision;
  if (asked.all.length === 0 && asked.perType.size === 0) return undefined;
  if (!(options.confidence > 0 && options.confidence < 1)) throw new NerkitError("E_USAGE", `--confidence must be between 0 and 1 (exclusive), got ${options.confidence}`);
  return precisionAsk(asked, options.confidence);
}

/** The --db, usable now or a usage error naming it (without a PostgreSQL password). */
async function checkDatabase(config: ServeConfig): Promise<void> {
  try {
    await checkJobDatabase(config.db, { busyTimeoutMs: config.dbBusyTimeoutMs, queryTimeoutMs: config.dbQueryTimeoutMs, connectTimeoutMs: config.dbConnectTimeoutMs });
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    throw new NerkitError("E_IO", `--db ${isPostgresUrl(config.db) ? redactedUrl(config.db) : config.db}: ${error.message}`);
  }
}

/**
 * The registry's serving version (serve/models/serving-registry.ts), loaded before the service
 * listens; on a first start, --model, recorded as v1. Later starts say on stderr which version
 * serves, and that --model was not used when it names something else.
 */
async function openModels(options: ServeCommandOptions, config: ServeConfig, io: CommandIO, check: (folder: string, label: string) => void): Promise<ServingRegistry> {
  const models = await openServingRegistry({
    db: config.db,
    timeouts: { busyTimeoutMs: config.dbBusyTimeoutMs, queryTimeoutMs: config.dbQueryTimeoutMs, connectTimeoutMs: config.dbConnectTimeoutMs },
    modelsDir: options.models,
    modelDir: async () => {
      try {
        return await resolveModel(options.model, { revision: options.revision });
      } catch (error) {
        if (error instanceof NerkitError) throw new NerkitError(error.code, `--model: ${error.describe()}`);
        throw error;
      }
    },
    modelArg: options.model,
    load: (folder) => loadModel(options, folder),
    check,
    followEveryMs: 5000,
    onError: (error, what) => io.stderr(`nerkit: model registry: ${what === "close" ? "closing a swapped-out model" : "following a promotion made elsewhere"} failed: ${(error as Error).message}\n`),
  });
  return models;
}

/** Which version serves, and whether --model was used, as a line for stderr. */
function servingLine(models: ServingRegistry, options: ServeCommandOptions): string {
  const { version } = models;
  if (models.created) return `nerkit: model registry ${options.models}: ${version.id} recorded from --model ${options.model} (${version.folder})\n`;
  return `nerkit: model registry ${options.models}: serving ${version.id} (${version.folder}); --model ${options.model} only seeds an empty registry (to start over: a new --db and an empty --models folder)\n`;
}

/** A model folder, loaded before the service listens: a broken checkpoint is one line naming --model. */
async function loadModel(options: ServeCommandOptions, folder: string): Promise<NerPipeline> {
  try {
    // In a worker thread: a batch no longer holds the event loop, so /healthz and others answer meanwhile.
    return await openPipeline(folder, { revision: options.revision, threads: options.threads, quantize: options.quantize, calibration: options.calibration, offMainThread: true });
  } catch (error) {
    if (error instanceof NerkitError) throw new NerkitError(error.code, `--model: ${error.describe()}`);
    // A file the system would not let us read (EACCES, EISDIR, ...) is the user's to fix too.
    const code = (error as NodeJS.ErrnoException)?.code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) throw new NerkitError("E_IO", `--model ${options.model}: ${(error as Error).message}`);
    throw error;
  }
}
