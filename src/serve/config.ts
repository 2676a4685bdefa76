// The service's settings: defaults, the parsing of sizes such as "1mb", and the API keys (a file
// with one key per line, or NERKIT_API_KEYS). Reading the model is the CLI's business, not this file's.

import { readFileSync } from "node:fs";
import { NerkitError } from "../errors.js";
import { TargetThreshold, Thresholds, resolveRouting } from "../postprocess/routing.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS } from "./storage/postgres-timeouts.js";
import { REVIEW_ORDERS, ReviewOrderMode } from "./storage/repository.js";

export interface ServeConfig {
  /** Texts per pipeline run. */
  maxBatch: number;
  /** How long the first text of a batch waits for others, in milliseconds. */
  maxWaitMs: number;
  /** Texts allowed to wait; beyond this a request is answered 503 with Retry-After. */
  maxQueue: number;
  /** Request body limit in bytes. */
  bodyLimit: number;
  /** Entities scoring at least this are accepted. */
  accept: number;
  /** Entities scoring at least this (and below accept) go to review; below it they are rejected. */
  review: number;
  /** Thresholds for some entity types; what a type leaves out falls back to accept and review. */
  perType: Record<string, Partial<Thresholds>>;
  /** Accept thresholds standing for precision targets (--target-precision, from calibration.json: precision-routing.ts);
   * they replace accept for the types they cover, and review is clamped to them. */
  targets?: TargetThreshold[];
  /** The share of auto-accepted batch-job documents also sent to review as an audit sample (0: none). */
  auditRate: number;
  /** The seed of the audit draw; undefined: buildApp draws one (and logs it). */
  auditSeed?: number;
  /** The review queue's order (review/queue-order.ts): most informative first, a seeded shuffle, or oldest first. */
  reviewOrder: ReviewOrderMode;
  /** The seed of the random review order (the same seed, the same shuffle). */
  reviewSeed: number;
  /** A batch-job document at least this informative goes to review even when no entity does (--review-uncertain); unset: off. */
  reviewUncertain?: number;
  /** Accepted keys; empty: no authentication. */
  apiKeys: readonly string[];
  /** Texts per request (the "texts" array's maximum length); more is 413. */
  maxTexts: number;
  /** Characters per text in /v1/entities, /v1/redact and each document of a batch job; more is 413. */
  maxTextChars: number;
  /** Documents per batch job (POST /v1/jobs); more is 413. */
  maxJobDocuments: number;
  /** Characters of all requests being read at once; beyond, 503 with Retry-After (request-budget.ts). */
  maxCharsInFlight: number;
  /** A request must arrive whole (headers and body) within this, or its connection is closed (408). */
  requestTimeoutMs: number;
  /** A request's headers must arrive within this (a client sending them byte by byte is cut off). */
  headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; the server closes any beyond at once (each holds a file descriptor). */
  maxConnections: number;
  /** Salt of style "hash" in /v1/redact (NERKIT_REDACT_SALT); without one that style is refused. */
  redactSalt?: string;
  /** SQLite file of the batch jobs (":memory:": jobs last as long as the process). */
  db: string;
  /** How long a job write waits for another connection's lock before answering 503. */
  dbBusyTimeoutMs: number;
  /** PostgreSQL: how long a statement may run, or its answer be awaited, before the database counts as unavailable. */
  dbQueryTimeoutMs: number;
  /** PostgreSQL: how long opening a connection may take before the database counts as unavailable. */
  dbConnectTimeoutMs: number;
  /** How often unfinished jobs that nothing works on are looked for (picked up again, or marked failed). */
  sweepIntervalMs: number;
  /** redis://host:port[/db]: batch jobs go to this BullMQ queue for `nerkit worker`s instead of being annotated here. */
  queue?: string;
  /** Finished batch jobs created more than this many days ago are deleted (jobs/retention.ts); undefined: kept. */
  retainDays?: number;
  /** Documents in the drift monitor's rolling window (--drift-window). */
  driftWindow: number;
  /** A drift statistic's PSI above this sets the alert (--drift-psi). */
  driftPsi: number;
  /** Documents the window needs before drift may alert; min(200, driftWindow) when unset (serve/drift/monitor.ts). */
  driftMinDocuments?: number;
}

export const DEFAULT_CONFIG: ServeConfig = {
  maxBatch: 16,
  maxWaitMs: 5,
  maxQueue: 256,
  bodyLimit: 1024 * 1024,
  accept: 0.95,
  review: 0.8,
  perType: {},
  // `nerkit serve --audit-rate` defaults to 0.05; an app built in code audits only when asked, so
  // that what its review queue holds does not depend on a seed it did not choose.
  auditRate: 0,
  reviewOrder: "uncertainty",
  reviewSeed: 0,
  apiKeys: [],
  maxTexts: 256,
  maxTextChars: 200_000,
  maxJobDocuments: 100_000,
  maxCharsInFlight: 1_000_000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  db: ":memory:",
  dbBusyTimeoutMs: 5000,
  dbQueryTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
  dbConnectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  sweepIntervalMs: 10_000,
  driftWindow: 1000,
  driftPsi: 0.2,
};

/** Settings whose values contradict each other are refused at start-up, naming the flags: each of
 * these would otherwise be a service that looks healthy and refuses the work (see below). */
export function serveConfig(overrides: Partial<ServeConfig> = {}): ServeConfig {
  const maxQueue = overrides.maxQueue ?? DEFAULT_CONFIG.maxQueue;
  // Unless set, a request may carry as many texts as can wait: never more than the queue holds.
  // A flag left out arrives as undefined and must not replace the default.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<ServeConfig>;
  const config = { ...DEFAULT_CONFIG, maxTexts: Math.min(DEFAULT_CONFIG.maxTexts, maxQueue), ...given };
  if (!(config.review >= 0 && config.review <= config.accept && config.accept <= 1)) {
    throw new NerkitError("E_USAGE", `thresholds must satisfy 0 <= review <= accept <= 1, got review ${config.review} and accept ${config.accept}`);
  }
  resolveRouting({ accept: config.accept, review: config.review, perType: config.perType, targets: config.targets, uncertain: config.reviewUncertain });
  if (!(typeof config.auditRate === "number" && config.auditRate >= 0 && config.auditRate <= 1)) {
    throw new NerkitError("E_USAGE", `--audit-rate must be a share between 0 and 1 (0 turns the audit sample off), got ${config.auditRate}`);
  }
  if (!REVIEW_ORDERS.includes(config.reviewOrder)) throw new NerkitError("E_USAGE", `--review-order must be one of ${REVIEW_ORDERS.join(", ")}, got ${config.reviewOrder}`);
  if (!(Number.isSafeInteger(config.reviewSeed) && config.reviewSeed >= 0)) throw new NerkitError("E_USAGE", `--review-seed must be a whole number >= 0, got ${config.reviewSeed}`);
  if (config.auditSeed !== undefined && !(Number.isSafeInteger(config.auditSeed) && config.auditSeed >= 0)) {
    throw new NerkitError("E_USAGE", `--audit-seed must be a whole number >= 0, got ${config.auditSeed}`);
  }
  for (const key of ["maxBatch", "maxQueue", "bodyLimit", "maxTexts", "maxTextChars", "maxCharsInFlight", "requestTimeoutMs", "headersTimeoutMs", "keepAliveTimeoutMs", "maxConnections", "sweepIntervalMs", "driftWindow", "maxJobDocuments", "dbQueryTimeoutMs", "dbConnectTimeoutMs"] as const) {
    if (!(Number.isInteger(config[key]) && config[key] > 0)) throw new NerkitError("E_USAGE", `${key} must be a positive integer, got ${config[key]}`);
  }
  if (config.maxCharsInFlight < config.maxTextChars) {
    throw new NerkitError("E_USAGE", `maxCharsInFlight (${config.maxCharsInFlight}) must be at least maxTextChars (${config.maxTextChars}): a text of the largest size could never be read`);
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new NerkitError("E_USAGE", `headersTimeoutMs (${config.headersTimeoutMs}) must not exceed requestTimeoutMs (${config.requestTimeoutMs}): the headers are part of the request`);
  }
  if (config.retainDays !== undefined && !(Number.isFinite(config.retainDays) && config.retainDays > 0)) {
    throw new NerkitError("E_USAGE", `retainDays must be a number of days > 0, got ${config.retainDays}`);
  }
  if (!(Number.isFinite(config.driftPsi) && config.driftPsi > 0)) throw new NerkitError("E_USAGE", `--drift-psi must be a number > 0, got ${config.driftPsi}`);
  if (config.driftMinDocuments !== undefined && !(Number.isInteger(config.driftMinDocuments) && config.driftMinDocuments > 0 && config.driftMinDocuments <= config.driftWindow)) {
    throw new NerkitError("E_USAGE", `--drift-min-documents must be a positive integer no larger than --drift-window ${config.driftWindow}, got ${config.driftMinDocuments}: the alert could never fire`);
  }
  if (!(config.maxWaitMs >= 0)) throw new NerkitError("E_USAGE", `maxWaitMs must be >= 0, got ${config.maxWaitMs}`);
  // A batch job's chunk (--max-batch texts) waits in the queue as a whole: a larger one would never fit and be retried forever.
  if (config.maxBatch > config.maxQueue) {
    throw new NerkitError("E_USAGE", `--max-batch ${config.maxBatch} is larger than --max-queue ${config.maxQueue}: a batch job's chunk of --max-batch texts could never enter the queue; raise --max-queue or lower --max-batch`);
  }
  // A request's texts enter the queue together: more than it holds would be a 503 every time.
  if (config.maxTexts > config.maxQueue) {
    throw new NerkitError("E_USAGE", `the per-request text limit (maxTexts ${config.maxTexts}) is larger than --max-queue ${config.maxQueue}: every request with more texts than the queue holds would be refused with 503`);
  }
  return config;
}

const UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** "1mb", "512kb", "2048" → bytes (binary units, as Express's body-parser reads them). */
export function parseBytes(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new NerkitError("E_USAGE", `expected a size such as 1mb, 512kb or 2048, got '${value}'`);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes <= 0) throw new NerkitError("E_USAGE", `a size must be positive, got '${value}'`);
  return bytes;
}

/** Keys from a file (one per line; blank lines and lines starting with # are skipped) and NERKIT_API_KEYS (comma-separated). */
export function loadApiKeys(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const keys: string[] = [];
  if (file !== undefined) {
    let content: string;
    try {
      content = readFileSync(file, "utf8");
    } catch (error) {
      throw new NerkitError("E_IO", `cannot read the API key file: ${(error as Error).message}`, { file });
    }
    for (const line of content.split(/\r?\n/)) {
      const key = line.trim();
      if (key !== "" && !key.startsWith("#")) keys.push(key);
    }
    if (keys.length === 0) throw new NerkitError("E_USAGE", "the API key file has no key", { file });
  }
  for (const key of (env.NERKIT_API_KEYS ?? "").split(",")) if (key.trim() !== "") keys.push(key.trim());
  return keys;
}
