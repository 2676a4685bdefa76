// The OpenAPI descriptions of the batch-job and review routes (what /docs shows). The routes
// validate with zod themselves; these JSON Schemas only document the API, as schemas.ts does for
// /v1/entities. NDJSON bodies and answers are documented as text with their line shape described.

import { z } from "zod";
import { jsonSchema } from "../schemas.js";

const error = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, jsonSchema(error)]));

const jobStatus = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed"]),
  total: z.number().int().describe("documents in the job"),
  done: z.number().int().describe("documents with a stored result"),
  error: z.string().optional().describe("why the job failed"),
});

const page = z.object({
  offset: z.number().int().min(0).optional().describe("results to skip (default 0)"),
  limit: z.number().int().min(1).optional().describe("results to return"),
});

const span = z.object({ start: z.number().int().describe("UTF-16 offset, inclusive"), end: z.number().int().describe("UTF-16 offset, exclusive"), label: z.string() });

const reviewItem = z.object({
  id: z.string().describe("<jobId>:<seq>"),
  text: z.string(),
  entities: z.array(z.object({ type: z.string(), text: z.string(), start: z.number().int(), end: z.number().int(), score: z.number(), decision: z.enum(["accept", "review", "reject"]) })),
});

const idParam = (what: string) => jsonSchema(z.object({ id: z.string().describe(what) }));

export const jobRouteSchemas = {
  create: {
    summary: "A batch job: one JSON document per line; annotated in the background",
    description: 'Body: application/x-ndjson, one {"id"?: string, "text": string} per line. Answers 202 at once; the documents are annotated in the background and every result is stored.',
    response: { 202: jsonSchema(jobStatus.pick({ id: true, status: true, total: true })), ...errors(400, 401, 413, 415, 503) },
  },
  status: { summary: "A job's progress", params: idParam("the job id"), response: { 200: jsonSchema(jobStatus), ...errors(401, 404, 503) } },
  results: {
    summary: "A job's results so far, as NDJSON in document order (offset, limit)",
    description: 'application/x-ndjson, one line per document: {"seq", "id"?, "text", "entities": [{type, text, start, end, score, decision}], "decision"}.',
    params: idParam("the job id"),
    querystring: jsonSchema(page),
    response: { 200: { type: "string" }, ...errors(400, 401, 404, 503) },
  },
};

export const reviewRouteSchemas = {
  queue: {
    summary: "Results routed to review that no one has reviewed yet (offset, limit)",
    querystring: jsonSchema(page),
    response: { 200: jsonSchema(z.object({ items: z.array(reviewItem) })), ...errors(400, 401, 503) },
  },
  agreement: { summary: "Agreement between the first two reviewers of each document: entity F1 and Cohen's kappa", response: errors(401, 503) },
  review: {
    summary: "Review one result: accept, correct (with spans) or reject",
    params: idParam("<jobId>:<seq>, as GET /v1/review lists it"),
    body: jsonSchema(
      z.object({
        reviewer: z.string().describe("who reviews; a reviewer reviewing again replaces their review"),
        action: z.enum(["accept", "correct", "reject"]),
        spans: z.array(span).optional().describe("the full, corrected span list (action correct only)"),
      }),
    ),
    response: { 200: jsonSchema(z.object({ id: z.string(), action: z.enum(["accept", "correct", "reject"]) })), ...errors(400, 401, 404, 503) },
  },
  export: {
    summary: "Reviewed documents as training data: format=jsonl (spans) or conll (IOB2)",
    querystring: jsonSchema(z.object({ format: z.enum(["jsonl", "conll"]) })),
    response: { 200: { type: "string" }, ...errors(400, 401, 503) },
  },
};
