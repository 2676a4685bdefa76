// The request and response shapes of /v1/entities, /v1/redact and /v1/evaluate, as zod schemas
// (validation in the route) and the JSON Schema zod derives from them (the OpenAPI document); the
// OpenAPI descriptions of the job and review routes, from the zod schemas those routes validate
// with. NDJSON bodies and answers are documented as text, their line shape described.
// Error messages name the field.

import { z } from "zod";
import { SCHEME_NAMES } from "../data/schemes.js";
import { AGGREGATION_STRATEGIES } from "../infer/aggregation.js";
import { ERROR_KINDS } from "../metrics/confusion.js";

const nonEmptyText = z.string({ error: "must be a string" }).min(1, { error: "must not be empty" });

const aggregation = z
  .enum(AGGREGATION_STRATEGIES as ["none", "simple", "first", "average", "max"], { error: `must be one of ${AGGREGATION_STRATEGIES.join(", ")}` })
  .optional()
  .describe("how tokens become entities, as transformers' pipeline does it (default first: each word takes its first sub-token's label, the one training labels)");

export function entitiesRequest(maxTexts: number) {
  return z
    .strictObject(
      {
        text: nonEmptyText.optional().describe("one document"),
        texts: z
          .array(nonEmptyText, { error: "must be an array of strings" })
          .min(1, { error: "must hold at least one text" })
          .max(maxTexts, { error: `must hold at most ${maxTexts} texts` })
          .optional()
          .describe("several documents (answered in order)"),
        aggregation,
        labels: z.array(z.string(), { error: "must be an array of entity types" }).optional().describe("entity types to keep (default: all)"),
      },
      { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "the body must be a JSON object") },
    )
    .refine((body) => (body.text === undefined) !== (body.texts === undefined), { error: "give exactly one of 'text' or 'texts'" });
}

export type EntitiesRequest = z.infer<ReturnType<typeof entitiesRequest>>;

const decision = z.enum(["accept", "review", "reject"]);

const apiEntity = z.object({
  type: z.string(),
  text: z.string(),
  start: z.number().int().describe("UTF-16 offset, inclusive"),
  end: z.number().int().describe("UTF-16 offset, exclusive"),
  score: z
    .number()
    .describe("the model's confidence; calibrated (the probability that the entity is exactly right) when the model folder has a calibration.json (nerkit calibrate), and then what routing decides on"),
  raw_score: z
    .number()
    .optional()
    .describe("only when the model has a calibration: the uncalibrated score (as a model without calibration.json gives it); overlapping spans are settled on it, so a calibration never changes which spans are found"),
  decision,
  threshold: z.number().nullable().optional().describe("serve --target-precision: the accept threshold of the entity's type (null: nothing of the type is auto-accepted)"),
  target: z.number().optional().describe("serve --target-precision: the precision target the threshold stands for"),
  label: z.string().optional().describe("with aggregation none: the token's label"),
  index: z.number().int().optional().describe("with aggregation none: the token's index"),
});

export type ApiEntityBody = z.infer<typeof apiEntity>;

const apiDocument = z.object({ entities: z.array(apiEntity), decision: z.enum(["accept", "review"]), model_version: z.string().optional().describe("the model version that read the text (serve --models; GET /v1/models)") });

/** {"text"} is answered with one document; {"texts"} with {"documents": [...]}, one per text, in order. */
export const entitiesResponse = z.union([apiDocument, z.object({ documents: z.array(apiDocument) })]);

export const errorResponse = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A zod schema as the JSON Schema (OpenAPI 3.0 flavour) that @fastify/swagger documents. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "openapi-3.0", unrepresentable: "any", io: "input" }) as Record<string, unknown>;
  return rest;
}

export function entitiesRouteSchema(maxTexts: number) {
  const error = jsonSchema(errorResponse);
  return {
    summary: "Entities in one text or several",
    body: jsonSchema(entitiesRequest(maxTexts)),
    response: { 200: jsonSchema(entitiesResponse), 400: error, 401: error, 413: error, 503: error },
  };
}

export const redactRequest = z.strictObject(
  {
    text: nonEmptyText.describe("the text to redact"),
    types: z.array(z.string(), { error: "must be an array of entity types" }).optional().describe("entity types to redact (default: all)"),
    style: z.enum(["mask", "type", "hash"], { error: "must be one of mask, type, hash" }).optional().describe("█████, [PER] (default), or a stable salted hash [PER:1a2b3c4d5e]"),
    rules: z.boolean({ error: "must be true or false" }).optional().describe("also run the rule detectors: e-mail, phone, IBAN, card, URL, IP, date, money (default true)"),
    aggregation,
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "the body must be a JSON object") },
);

const redactResponse = z.object({
  text: z.string(),
  replacements: z
    .array(z.object({ type: z.string(), start: z.number().int(), end: z.number().int(), replacement: z.string() }))
    .describe("offsets into the original text, on word boundaries: each entity is widened to whole words, and entities that then overlap or touch are one replacement"),
});

const labelsResponse = z.object({
  types: z.array(z.string()).describe("the model's entity types, in the order of its labels"),
  calibration: z
    .object({
      method: z.enum(["temperature", "isotonic"]),
      temperature: z.number().describe("logits are divided by it before the softmax (1 with isotonic)"),
      created: z.string().describe("when `nerkit calibrate` wrote it, ISO 8601"),
    })
    .optional()
    .describe("the model folder's calibration.json, applied to every score; absent: scores are raw (or the server runs with --no-calibration)"),
});

export function labelsRouteSchema() {
  return { summary: "The model's entity types, in the order of its labels, and the calibration its scores carry", response: { 200: jsonSchema(labelsResponse) } };
}

export function redactRouteSchema() {
  const error = jsonSchema(errorResponse);
  return {
    summary: "The text with its entities (model and rules) replaced, whole words, the whole text read",
    body: jsonSchema(redactRequest),
    response: { 200: jsonSchema(redactResponse), 400: error, 401: error, 413: error, 503: error },
  };
}

export const evaluateRequest = z.strictObject(
  {
    gold: nonEmptyText.describe("CoNLL text with the gold tags in its last column (with 'pred' left out: gold and predicted tags in its last two columns)"),
    pred: nonEmptyText.optional().describe("CoNLL text with the predicted tags in its last column, same tokens as gold"),
    mode: z.enum(["default", "strict"], { error: "must be default or strict" }).optional().describe("seqeval's default mode (conlleval-compatible, the default) or strict"),
    scheme: z.enum(SCHEME_NAMES, { error: `must be one of ${SCHEME_NAMES.join(", ")}` }).optional().describe("scheme for strict mode (default: detected from the gold tags)"),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "the body must be a JSON object") },
);

const typeScores = z.object({ precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() });
const averageScores = z.object({ precision: z.number().nullable(), recall: z.number().nullable(), f1: z.number().nullable(), support: z.number().int() });
const counts = z.record(z.string(), z.number().int());

/** What `nerkit evaluate --format json` prints, and the confusion tables of its HTML report. */
const evaluateResponse = z.object({
  report: z.object({
    overall: z.object({ precision: z.number(), recall: z.number(), f1: z.number(), accuracy: z.number() }),
    types: z.record(z.string(), typeScores),
    "micro avg": averageScores,
    "macro avg": averageScores,
    "weighted avg": averageScores,
  }),
  confusion: z.object({
    labels: z.array(z.string()).describe("entity types, then O"),
    tokens: z.record(z.string(), counts).describe("tokens[gold][pred]: tokens by gold and predicted type"),
    entities: z.record(z.string(), z.object(Object.fromEntries(ERROR_KINDS.map((k) => [k, z.number().int()])))).describe("per type: correct, wrongType, wrongBoundary, wrongBoth, missed, spurious"),
    entityTypes: z.record(z.string(), counts).describe("entityTypes[gold][pred]: gold entities predicted with exact boundaries"),
  }),
  scheme: z.string().optional().describe("strict mode: the scheme used"),
  warnings: z.array(z.string()).optional().describe("strict mode: gold transitions the scheme does not allow, scored as seqeval scores them"),
});

export function evaluateRouteSchema() {
  const error = jsonSchema(errorResponse);
  return {
    summary: "Entity-level scores of predicted CoNLL tags against gold ones, as nerkit evaluate computes them",
    body: jsonSchema(evaluateRequest),
    response: { 200: jsonSchema(evaluateResponse), 400: error, 401: error, 413: error },
  };
}

/** A paged GET's query: offset, and limit up to `max`. */
export function pageQuery(max: number) {
  return z.strictObject(
    {
      offset: z.coerce.number({ error: "must be an integer >= 0" }).int({ error: "must be an integer >= 0" }).min(0, { error: "must be an integer >= 0" }).optional().describe("results to skip (default 0)"),
      limit: z.coerce.number({ error: "must be an integer" }).int({ error: "must be an integer" }).min(1, { error: `must be between 1 and ${max}` }).max(max, { error: `must be between 1 and ${max}` }).optional().describe("results to return"),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown parameter(s): ${issue.keys.join(", ")}` : "bad query") },
  );
}

const errorAnswers = (...codes: number[]) => Object.fromEntries(codes.map((code) => [code, jsonSchema(errorResponse)]));

const idParam = (what: string) => jsonSchema(z.object({ id: z.string().describe(what) }));

const jobStatus = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed"]),
  total: z.number().int().describe("documents in the job"),
  done: z.number().int().describe("documents with a stored result"),
  error: z.string().optional().describe("why the job failed"),
  waiting: z
    .object({ reason: z.string(), since: z.string().describe("ISO 8601, UTC") })
    .optional()
    .describe("why an unfinished job stands still (no worker connected, the database unwritable), as the server's last look found it"),
});

/** The batch-job routes' OpenAPI descriptions; `page` is the results route's query schema, `listPage` the job list's. */
export function jobRouteSchemas(page: z.ZodType, listPage: z.ZodType) {
  return {
    create: {
      summary: "A batch job: one JSON document per line; annotated in the background",
      description:
        'Body: application/x-ndjson, one {"id"?: string, "text": string} per line. Answers 202 at once, with the job\'s URL in the Location header; the documents are annotated in the background and every result is stored.',
      response: { 202: jsonSchema(jobStatus.pick({ id: true, status: true, total: true })), ...errorAnswers(400, 401, 413, 415, 503) },
    },
    list: {
      summary: "Jobs, newest first (offset, limit), with status and counts",
      querystring: jsonSchema(listPage),
      response: { 200: jsonSchema(z.object({ jobs: z.array(jobStatus.extend({ createdAt: z.string().describe("when the job was created, ISO 8601 UTC") })) })), ...errorAnswers(400, 401, 503) },
    },
    remove: {
      summary: "Deletes a finished job with its documents, results and reviews",
      description: "A queued or running job is not deleted (409): wait until it is done or failed. Answers 204.",
      params: idParam("the job id"),
      response: { 204: { type: "null", description: "deleted" }, ...errorAnswers(401, 404, 409, 503) },
    },
    status: { summary: "A job's progress", params: idParam("the job id"), response: { 200: jsonSchema(jobStatus), ...errorAnswers(401, 404, 503) } },
    results: {
      summary: "A job's results so far, as NDJSON in document order (offset, limit)",
      description:
        'application/x-ndjson, one line per document: {"seq", "id"?, "text", "entities": [{type, text, start, end, score, raw_score?, decision}], "decision"}; raw_score only with a calibrated model (score is then calibrated).',
      params: idParam("the job id"),
      querystring: jsonSchema(page),
      response: { 200: { type: "string" }, ...errorAnswers(400, 401, 404, 503) },
    },
  };
}

const reviewItem = z.object({
  id: z.string().describe("<jobId>:<seq>"),
  text: z.string(),
  entities: z.array(apiEntity.omit({ label: true, index: true })),
  audit: z.boolean().describe("an auto-accepted document drawn for the audit sample (serve --audit-rate), not one routed to review"),
  informativeness: z.number().nullable().describe("how much reviewing it would teach the model, in [0, 1]: the mean normalised entropy of its 10 least certain words; null when not measured"),
  model_version: z.string().optional().describe("the model version whose result this is (serve --models)"),
});

/** The review routes' OpenAPI descriptions, from the schemas the routes validate with. */
export function reviewRouteSchemas(requests: { page: z.ZodType; review: z.ZodType; exportQuery: z.ZodType }) {
  const action = z.enum(["accept", "correct", "reject"]);
  return {
    queue: {
      summary: "Results routed to review that no one has reviewed yet (offset, limit), in the server's --review-order",
      querystring: jsonSchema(requests.page),
      response: { 200: jsonSchema(z.object({ order: z.enum(["uncertainty", "random", "fifo"]), items: z.array(reviewItem) })), ...errorAnswers(400, 401, 503) },
    },
    agreement: { summary: "Agreement between the first two reviewers of each document: entity F1 and Cohen's kappa", response: errorAnswers(401, 503) },
    review: {
      summary: "Review one result: accept, correct (with spans) or reject",
      params: idParam("<jobId>:<seq>, as GET /v1/review lists it"),
      body: jsonSchema(requests.review),
      response: { 200: jsonSchema(z.object({ id: z.string(), action })), ...errorAnswers(400, 401, 404, 503) },
    },
    export: {
      summary: "Reviewed documents as training data: format=jsonl (spans) or conll (IOB2)",
      querystring: jsonSchema(requests.exportQuery),
      response: { 200: { type: "string" }, ...errorAnswers(400, 401, 503) },
    },
  };
}
