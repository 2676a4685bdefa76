// The HTTP service: buildApp({ pipeline, config }) wires routes to the library and nothing more.
// Routes: POST /v1/entities, GET /v1/labels (the types, and the calibration the scores carry), batch jobs (jobs/routes.ts: POST and GET /v1/jobs, GET and DELETE /v1/jobs/:id, GET /v1/jobs/:id/results;
// annotated here, or by `nerkit worker`s when config.queue names a Redis), the review queue over job
// results (review/routes.ts: /v1/review, /v1/review/agreement, /v1/export), POST /v1/evaluate
// (evaluation/routes.ts), GET /v1/monitor (monitor/routes.ts: audit precision, and drift of recent documents against the
// model's reference profile, drift/monitor.ts), the model registry with `registry` (models/routes.ts: /v1/models; every
// answer then names the model version that read it, is routed on that version's --target-precision thresholds, and a
// promotion brings the new version's drift reference: models/version-routing.ts), retraining when given a model registry (retrain/routes.ts:
// POST and GET /v1/retrain, GET /v1/retrain/:id; with config.queue run by `nerkit worker --retrain`), the web UI (ui/routes.ts: / and /ui/*), GET /healthz, /readyz, /metrics, /docs (OpenAPI UI) and /docs/json.
// Bodies are validated with zod (schemas.ts); texts from concurrent requests share pipeline runs
// (micro-batcher.ts); every 4xx/5xx answer is {"error": {"code", "message"}}, those fastify gives
// before routing and while closing too (early-errors.ts). Every route and job
// reads the whole text (reading.ts); /v1/redact replaces whole words (postprocess/redact.ts).
// Listening on a socket and signals are the CLI's business (src/cli/commands/serve.ts).

import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { NerkitError } from "../errors.js";
import { AggregationStrategy } from "../infer/aggregation.js";
import { RoutingOptions, Routed, route } from "../postprocess/routing.js";
import { DEFAULT_READING, Entity, TokenItem } from "../infer/pipeline.js";
import { packageVersion } from "../package-root.js";
import { ServeConfig, serveConfig } from "./config.js";
import { HttpError, errorBody, validationMessage } from "./http-error.js";
import { clientErrorHandler, frameworkErrors, refuseWhileClosing } from "./early-errors.js";
import { createMetrics } from "./metrics.js";
import { MicroBatcher, QueueFullError } from "./micro-batcher.js";
import { entitiesRequest, entitiesRouteSchema, labelsRouteSchema, redactRequest, redactRouteSchema } from "./schemas.js";
import { postprocess } from "../postprocess/index.js";
import { redact } from "../postprocess/redact.js";
import { ApiEntity, annotator, modelEntities, wellFormed } from "./jobs/annotate.js";
import { localDispatcher, queueDispatcher } from "./jobs/dispatcher.js";
import { redisConnection } from "./jobs/chunks.js";
import { JobService } from "./jobs/routes.js";
import { reviewRoutes } from "./review/routes.js";
import { evaluationRoutes } from "./evaluation/routes.js";
import { monitorRoutes } from "./monitor/routes.js";
import { ReviewPrecisionCache, auditMonitor, reviewPrecisionCounts } from "./review/audit-precision.js";
import { UI_ROUTES, uiRoutes } from "./ui/routes.js";
import { PipelineLike, ScoredRead, readScoredTexts, readTexts } from "./reading.js";
import { modelRoutes } from "./models/routes.js";
import { SwappablePipeline, modelVersionOf } from "./models/swappable-pipeline.js";
import { followServedVersion } from "./models/version-routing.js";
import type { PrecisionAsk } from "./precision-routing.js";
import type { ModelRegistry } from "./models/registry.js";
import { RequestBudget } from "./request-budget.js";
import { limitConnections, serverTimeouts } from "./connection-limits.js";
import { DriftMonitor, registerDriftMetrics } from "./drift/monitor.js";
import { profiledDocument } from "./drift/profile-writer.js";
import type { ReferenceProfile } from "../metrics/reference-profile.js";
import { DEFAULT_RETRAIN, RetrainSettings } from "./retrain/run.js";
import { RetrainService } from "./retrain/service.js";
import { retrainRoutes } from "./retrain/routes.js";

export type { PipelineLike } from "./reading.js";

export interface BuildAppOptions {
  /** A loaded pipeline, or one still loading (/readyz answers 503 until it is). */
  pipeline: PipelineLike | Promise<PipelineLike>;
  config?: Partial<ServeConfig>;
  /** Fastify's pino logger: false (default) or its options. */
  logger?: boolean | Record<string, unknown>;
  /** The model's reference profile for drift monitoring, or why there is none (serve/drift/reference.ts). */
  drift?: { profile: ReferenceProfile } | { reason: string };
  /** The model registry (models/): its routes, and each answer names the version that read it (pipeline: a SwappablePipeline). */
  registry?: ModelRegistry;
  /** serve --target-precision as asked: config.targets are the thresholds of the version serving at start; after a
   * promotion each text is routed on those the calibration.json of the version that read it records, and a
   * promotion to a version whose calibration lacks one is refused (409 E_MODEL_CALIBRATION: models/version-routing.ts). */
  precision?: PrecisionAsk;
  /** Retraining (retrain/service.ts: /v1/retrain): the model registry, the retrain settings and
   * --retrain-after; without it, no retrain routes. */
  retrain?: { registry: ModelRegistry | Promise<ModelRegistry>; settings?: Partial<RetrainSettings>; after?: number; onTrainer?: (id: string, pid: number) => void };
}

const OPEN_ROUTES = new Set<string>(["/healthz", "/readyz", ...UI_ROUTES]);

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const bearer = typeof header === "string" ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined;
  const apiKey = request.headers["x-api-key"];
  return bearer ?? (typeof apiKey === "string" ? apiKey.trim() : undefined);
}

/** fastify's own errors (body parsing, limits) and ours, as a status and an error body. */
function describeError(error: unknown): { status: number; code: string; message: string; headers?: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message, headers: error.headers };
  if (error instanceof QueueFullError) {
    return { status: 503, code: "E_OVERLOADED", message: error.message, headers: { "retry-after": String(error.retryAfterSeconds) } };
  }
  if (error instanceof NerkitError) return { status: 400, code: error.code, message: error.describe() };
  const e = error as FastifyError;
  switch (e?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, code: "E_BODY_TOO_LARGE", message: "the request body is larger than the server's limit (--body-limit)" };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, code: "E_MEDIA_TYPE", message: "send the body as application/json" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, code: "E_VALIDATION", message: "the body is empty; send a JSON object with 'text' or 'texts'" };
  }
  if (e?.statusCode === 400 && (e instanceof SyntaxError || /JSON/i.test(e.code ?? "") || /JSON/.test(e.message ?? ""))) {
    return { status: 400, code: "E_INVALID_JSON", message: `the body is not valid JSON: ${e.message}` };
  }
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: "E_BAD_REQUEST", message: e.message };
  }
  return { status: 500, code: "E_INTERNAL", message: "internal error (this is a bug in nerkit; the server's log has the details)" };
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const config = serveConfig(options.config);
  // What fastify answers before a route runs takes the service's error shape too (early-errors.ts).
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: config.bodyLimit, return503OnClosing: false, frameworkErrors, clientErrorHandler, ...serverTimeouts(config) });
  limitConnections(app, config);
  const budget = new RequestBudget({ maxTextChars: config.maxTextChars, maxTexts: config.maxTexts, maxCharsInFlight: config.maxCharsInFlight });
  /** Texts read for one request, within the in-flight budget (413 or 503 when over it). */
  const read = async (texts: string[], aggregation: AggregationStrategy) => {
    const release = budget.admit(texts);
    try {
      const results = (await batcher.submit(texts, { aggregation })).map((r) => r.items);
      // One run answers many requests at once: a turn for the event loop before shaping each
      // answer, or all of them (tens of thousands of entities for long texts) run back to back.
      await new Promise((resolve) => setImmediate(resolve));
      return results;
    } finally {
      release();
    }
  };

  let pipeline: PipelineLike | undefined;
  let loadError: unknown;
  const loading = Promise.resolve(options.pipeline).then(
    (p) => {
      // The drift reference given is that of the version serving at start.
      if (p instanceof SwappablePipeline && drift.modelVersion === undefined) drift.modelVersion = p.version;
      return (pipeline = p);
    },
    (error) => {
      loadError = error;
      app.log.error({ err: error }, "the model failed to load");
    },
  );

  // Batch jobs' texts are also scored for the review order (scored: reading.ts); live requests' are
  // not, so they never share a run.
  const batcher = new MicroBatcher<{ aggregation: AggregationStrategy; scored?: boolean }, ScoredRead>(
    async (texts, runOptions) => (runOptions.scored ? readScoredTexts(pipeline!, texts, runOptions.aggregation) : (await readTexts(pipeline!, texts, runOptions.aggregation)).map((items) => ({ items }))),
    {
      maxBatch: config.maxBatch,
      maxWaitMs: config.maxWaitMs,
      maxQueue: config.maxQueue,
      key: (o) => (o.scored ? `${o.aggregation}+scored` : o.aggregation),
      onBatch: (size) => metrics.batchSize.observe(size),
    },
  );
  const metrics = createMetrics(() => batcher.waiting, () => auditEstimate());
  const driftSource = options.drift ?? { reason: "no reference profile was given to the service" };
  const drift = new DriftMonitor("profile" in driftSource ? driftSource.profile : undefined, { window: config.driftWindow, psiThreshold: config.driftPsi, minDocuments: config.driftMinDocuments }, "reason" in driftSource ? driftSource.reason : undefined);
  registerDriftMetrics(metrics.registry, drift);
  /** A document read with the reference's aggregation (first) enters the drift window; others score differently and stay out,
   * as do those a swapped-out version read after the swap (the window is the new version's). */
  const watch = (text: string, entities: readonly ApiEntity[], aggregation: AggregationStrategy, version: string | undefined) => {
    if (version !== undefined && drift.modelVersion !== undefined && version !== drift.modelVersion) return;
    if (drift.enabled && aggregation === DEFAULT_READING.aggregation && pipeline) drift.observe(profiledDocument(pipeline, text, entities));
  };
  const routing: RoutingOptions = {
    accept: config.accept,
    review: config.review,
    perType: config.perType,
    ...(config.targets?.length ? { targets: config.targets } : {}),
    ...(config.reviewUncertain !== undefined ? { uncertain: config.reviewUncertain } : {}),
  };
  // What belongs to a model version follows a swap: its thresholds (per text, by the version that read it) and its drift reference.
  const routingOf = followServedVersion(options.registry, { routing, precision: options.precision, drift, warn: (line) => app.log.warn(line) });
  /** One routed document in the metrics (documents that `nerkit worker`s annotate are not counted: workers serve no metrics). */
  const count = (source: "entities" | "job", routed: Routed<ApiEntity>) => {
    metrics.documents.inc({ source });
    metrics.decisions.inc({ level: "document", decision: routed.decision });
    // Counted here and added once per label: one counter update per entity cost hundreds of ms
    // for a long text's tens of thousands of entities.
    const types = new Map<string, number>();
    const decisions = new Map<string, number>();
    for (const e of routed.entities) {
      types.set(e.type, (types.get(e.type) ?? 0) + 1);
      decisions.set(e.decision, (decisions.get(e.decision) ?? 0) + 1);
    }
    for (const [type, n] of types) metrics.entities.inc({ type }, n);
    for (const [decision, n] of decisions) metrics.decisions.inc({ level: "entity", decision }, n);
  };
  /** In-process jobs' storage calls now waiting for the database, since when, and its last error: for /healthz. */
  const storageWaits: { calls: number; since?: string; message?: string } = { calls: 0 };
  // Jobs go through the same batcher as live requests; a full queue makes them wait, not fail.
  const annotate = annotator(async (texts) => {
    await loading;
    if (!pipeline) throw new Error("the model failed to load");
    for (;;) {
      try {
        return await batcher.submit(texts, { aggregation: DEFAULT_READING.aggregation, scored: true });
      } catch (error) {
        if (!(error instanceof QueueFullError)) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }, routingOf, (routed, text, version) => {
    count("job", routed);
    watch(text, routed.entities, DEFAULT_READING.aggregation, version);
  });
  // Drawn here when not given, and logged: with it, the same documents are drawn again.
  const audit = { rate: config.auditRate, seed: config.auditSeed ?? randomInt(2 ** 31) };
  if (config.auditSeed === undefined) app.log.info({ auditRate: audit.rate, auditSeed: audit.seed }, "audit sample seed drawn");
  const jobs = new JobService({
    db: config.db,
    audit,
    busyTimeoutMs: config.dbBusyTimeoutMs,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    sweepIntervalMs: config.sweepIntervalMs,
    retainDays: config.retainDays,
    limits: { maxTextChars: config.maxTextChars, maxJobDocuments: config.maxJobDocuments },
    onSweepError: (error) => app.log.warn({ err: error }, "a sweep of batch jobs failed (unfinished jobs, or expired ones); the next one tries again"),
    dispatcher: config.queue
      ? queueDispatcher(config.queue, { chunkSize: config.maxBatch, routing, precision: options.precision, onError: (line) => app.log.warn(line) })
      : localDispatcher(annotate, {
          chunkSize: config.maxBatch,
          concurrency: 2,
          onError: (jobId, error) => app.log.error({ err: error, jobId }, "a batch job failed"),
          // The job waits for the database (jobs/storage-retry.ts); each wait is logged and counted,
          // and /healthz says so while any storage call is waiting.
          storageRetry: {
            onRetry: (error, delayMs, retry) => {
              metrics.storageRetries.inc();
              if (retry === 1) storageWaits.calls++;
              storageWaits.since ??= new Date().toISOString();
              storageWaits.message = error.message;
              app.log.warn({ err: error, delayMs }, "the job database is unavailable; a batch job waits and tries again");
            },
            onRetryEnd: () => {
              if (--storageWaits.calls === 0) storageWaits.since = undefined;
            },
          },
        }),
  });
  const retrains = options.retrain && new RetrainService({
    repository: () => jobs.existingRepository(),
    registry: options.retrain.registry,
    settings: { ...DEFAULT_RETRAIN, ...options.retrain.settings },
    retrainAfter: options.retrain.after,
    onTrainer: options.retrain.onTrainer,
    onError: (error, message) => app.log.error({ err: error }, message),
    // With --queue a `nerkit worker --retrain` trains; BullMQ is loaded only then.
    queue: config.queue ? new (await import("./retrain/retrain-queue.js")).RetrainQueue(redisConnection(config.queue), (line) => app.log.warn(line)) : undefined,
    sweepEveryMs: config.sweepIntervalMs,
  });
  const keys = config.apiKeys.map(digest);
  /** The audit estimate and the review-based one, from the job database (review/audit-precision.ts). */
  const reviewCounts = new ReviewPrecisionCache(async () => reviewPrecisionCounts(await jobs.existingRepository()));
  const auditEstimate = async () => auditMonitor(await reviewCounts.get(), audit);

  // zod validates in the route (clearer messages); the JSON Schemas only document the API.
  // The API speaks JSON only: a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser("text/plain");
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((error, request, reply) => {
    const { status, code, message, headers } = describeError(error);
    if (status >= 500 && code === "E_INTERNAL") request.log.error({ err: error }, "request failed");
    void reply.code(status).headers(headers ?? {}).send(errorBody(code, message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody("E_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`));
  });

  refuseWhileClosing(app);
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    if (keys.length === 0 || OPEN_ROUTES.has(request.routeOptions.url ?? "")) return;
    const key = presentedKey(request);
    const given = key === undefined ? undefined : digest(key);
    if (!given || !keys.some((k) => timingSafeEqual(k, given))) {
      return reply
        .code(401)
        .header("www-authenticate", "Bearer")
        .send(errorBody("E_UNAUTHORIZED", key === undefined ? "an API key is required: 'Authorization: Bearer KEY' or 'x-api-key: KEY'" : "the API key is not valid"));
    }
  });
  app.addHook("onResponse", async (request, reply) => {
    const routeUrl = request.routeOptions.url ?? "(unknown)";
    metrics.requestSeconds.observe({ method: request.method, route: routeUrl, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.addHook("onClose", async () => {
    await retrains?.close();
    await jobs.close();
    await batcher.drain();
    await loading;
    await pipeline?.close();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: "nerkit", description: "Named-entity recognition with BERT-family transformers", version: packageVersion },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
        },
      },
      security: config.apiKeys.length > 0 ? [{ bearer: [] }, { apiKey: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(jobs.routes);
  await app.register(
    reviewRoutes(
      () => jobs.existingRepository(),
      (action, types, kept, audited) => {
        metrics.reviews.inc({ action });
        reviewCounts.invalidate();
        retrains?.reviewed();
        // Audit documents are not among those routing sent to review: they have their own estimate.
        if (!audited) metrics.recordReview(types, kept);
      },
      { mode: config.reviewOrder, seed: config.reviewSeed },
    ),
  );
  await app.register(evaluationRoutes(config.bodyLimit));
  if (retrains) await app.register(retrainRoutes(retrains));
  await app.register(monitorRoutes({ audit: auditEstimate, drift }));
  await app.register(uiRoutes());
  if (options.registry) await app.register(modelRoutes(options.registry));
  // Jobs a crash or a shutdown left unfinished continue once the model is loaded.
  void loading.then(() => jobs.resumeJobs()).catch((error) => app.log.error({ err: error }, "cannot resume the batch jobs"));

  const loaded = (): PipelineLike => {
    if (!pipeline) throw new HttpError(503, "E_NOT_READY", loadError ? "the model failed to load" : "the model is still loading", { "retry-after": "1" });
    return pipeline;
  };
  app.get("/v1/labels", { schema: labelsRouteSchema() }, async () => {
    const model = loaded();
    const types = (model.arch?.labels ?? []).filter((l) => l !== "O").map((l) => l.replace(/^[BIESLU]-/, ""));
    const calibration = model.calibration;
    if (!calibration) return { types: [...new Set(types)] };
    return { types: [...new Set(types)], calibration: { method: calibration.method, temperature: calibration.temperature, created: calibration.created } };
  });

  const request = entitiesRequest(config.maxTexts);
  app.post("/v1/entities", { schema: entitiesRouteSchema(config.maxTexts) }, async (req) => {
    budget.checkTextCount(req.body);
    const parsed = request.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, "E_VALIDATION", validationMessage(parsed.error.issues));
    const body = parsed.data;
    loaded();
    const texts = body.texts ?? [body.text!];
    const aggregation = body.aggregation ?? DEFAULT_READING.aggregation;
    const results = await read(texts.map(wellFormed), aggregation);
    const keep = body.labels ? new Set(body.labels) : undefined;
    const documents = results.map((items, i) => {
      const version = modelVersionOf(items);
      const found = modelEntities(items, texts[i]);
      watch(texts[i], found, aggregation, version);
      const entities = found.filter((e) => !keep || keep.has(e.type) || (e.label !== undefined && keep.has(e.label)));
      const routed = route(entities, routingOf(version));
      count("entities", routed);
      return { entities: routed.entities, decision: routed.decision, ...(version ? { model_version: version } : {}) };
    });
    return body.texts ? { documents } : documents[0];
  });

  app.post("/v1/redact", { schema: redactRouteSchema() }, async (req) => {
    const parsed = redactRequest.safeParse(req.body);
    if (!parsed.success) throw new HttpError(400, "E_VALIDATION", validationMessage(parsed.error.issues));
    const body = parsed.data;
    const style = body.style ?? "type";
    if (style === "hash" && !config.redactSalt) throw new HttpError(400, "E_VALIDATION", "style hash needs a salt: start the server with NERKIT_REDACT_SALT set");
    loaded();
    const aggregation = body.aggregation ?? DEFAULT_READING.aggregation;
    const [items] = await read([wellFormed(body.text)], aggregation);
    const found = modelEntities(items, body.text);
    watch(body.text, found, aggregation, modelVersionOf(items));
    const merged = body.rules === false ? route(found).entities : postprocess(body.text, found).entities;
    const chosen = body.types ? merged.filter((e) => body.types!.includes(e.type)) : merged;
    const redacted = redact(body.text, chosen, { style, salt: config.redactSalt });
    metrics.documents.inc({ source: "redact" });
    return { text: redacted.text, replacements: redacted.replacements };
  });

  // Still 200 while batch jobs wait for their database: the process is alive and /v1/entities answers.
  app.get("/healthz", { schema: { summary: "The process is alive (and whether batch jobs are waiting for their database)" } }, async () =>
    storageWaits.since === undefined ? { status: "ok" } : { status: "ok", jobDatabase: { status: "unavailable", since: storageWaits.since, message: storageWaits.message } },
  );
  app.get("/readyz", { schema: { summary: "The model is loaded" } }, async (_req, reply) => {
    if (pipeline) return { status: "ready" };
    return reply.code(503).send(errorBody("E_NOT_READY", loadError ? "the model failed to load" : "the model is still loading"));
  });
  app.get("/metrics", { schema: { summary: "Prometheus metrics" } }, async (_req, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return app;
}
