// The review queue over stored job results: GET /v1/review lists results routed to "review", and
// auto-accepted ones drawn for the audit sample (marked audit: true; jobs/audit-sample.ts), that no
// one has reviewed; POST /v1/review/:id stores a reviewer's accept, correct (with spans) or reject;
// GET /v1/export gives reviewed documents as training data (jsonl or conll, latest review wins);
// GET /v1/review/agreement compares the first two reviewers of each document.
// Export and agreement page through the reviewed results (reviewedResultsPage, PAGE at a time):
// export writes each page as it comes, a streamed answer, and agreement adds each page to its
// counts, so memory stays flat however many documents were reviewed. The first page is read
// before answering (an unavailable database is still a 503); a database lost after that ends
// the stream early (the connection is closed, not a complete-looking file). Pages are not one
// snapshot: a review saved during an export is in it or not, never twice.
// An id is "<jobId>:<seq>". What it leaves out: claiming or assigning items, reviewer identities
// beyond the name given (the API key guards the service as a whole).

import { Readable } from "node:stream";
import { FastifyInstance } from "fastify";
import { z } from "zod";
import { NerkitError } from "../../errors.js";
import { SCHEMES } from "../../data/schemes.js";
import { disjointSpans } from "../../postprocess/disjoint.js";
import { spansToTags } from "../../data/spans.js";
import { HttpError, answeringStorage, validationMessage } from "../http-error.js";
import { pageQuery, reviewRouteSchemas } from "../schemas.js";
import { JobRepository, ReviewOrder, ReviewedPage, ReviewedResult } from "../storage/repository.js";
import { ReviewQueueOrder } from "./queue-order.js";
import { AgreementCounter } from "./agreement.js";
import { EXPORT_FORMATS, formatTrainingData, trainingDocuments } from "./training-data.js";

const MAX_PAGE = 1000;

/** Reviewed results read at once by export and agreement. */
const PAGE = 500;

const queueQuery = pageQuery(MAX_PAGE);

const exportQuery = z.strictObject({ format: z.enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(", ")}` }) }, {
  error: (issue) => (issue.code === "unrecognized_keys" ? `unknown parameter(s): ${issue.keys.join(", ")}` : "bad query"),
});

const span = z.strictObject({
  start: z.number({ error: "must be an integer" }).int({ error: "must be an integer" }).describe("UTF-16 offset, inclusive"),
  end: z.number({ error: "must be an integer" }).int({ error: "must be an integer" }).describe("UTF-16 offset, exclusive"),
  label: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }),
});

const reviewBody = z
  .strictObject(
    {
      reviewer: z.string({ error: "must be a string" }).trim().min(1, { error: "must not be empty" }).describe("who reviews; a reviewer reviewing again replaces their review"),
      action: z.enum(["accept", "correct", "reject"], { error: "must be accept, correct or reject" }),
      spans: z.array(span, { error: "must be an array of {start, end, label}" }).optional().describe("the full, corrected span list (action correct only)"),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : "must be a JSON object") },
  )
  .check((ctx) => {
    const { action, spans } = ctx.value;
    if (action === "correct" && spans === undefined) ctx.issues.push({ code: "custom", path: ["spans"], message: "required when action is correct", input: spans });
    if (action !== "correct" && spans !== undefined) ctx.issues.push({ code: "custom", path: ["spans"], message: "only allowed when action is correct", input: spans });
  });

const routeSchemas = reviewRouteSchemas({ page: queueQuery, review: reviewBody, exportQuery });

function parseId(id: string): { jobId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(":");
  const seq = Number(id.slice(colon + 1));
  return colon > 0 && /^\d+$/.test(id.slice(colon + 1)) && Number.isSafeInteger(seq) ? { jobId: id.slice(0, colon), seq } : undefined;
}

/** A database that cannot be reached is a 503 (../http-error.ts). */
const guard = answeringStorage;

/** The pages after `first`, read one at a time as the consumer asks for them. */
async function* laterPages(repository: JobRepository, first: ReviewedPage): AsyncGenerator<ReviewedResult[]> {
  let next = first.next;
  while (next !== undefined) {
    const page = await repository.reviewedResultsPage(next, PAGE);
    yield page.results;
    next = page.next;
  }
}

/** A saved review, for metrics: the model's entities and, per entity, whether the reviewer kept it; audit: the document is in the audit sample. */
export type ReviewListener = (action: "accept" | "correct" | "reject", entityTypes: string[], kept: boolean[], audit: boolean) => void;

/** The routes as a fastify plugin; `repository` is undefined while no job database exists. */
export function reviewRoutes(repository: () => Promise<JobRepository | undefined>, onReview?: ReviewListener, order: ReviewOrder = { mode: "fifo" }) {
  const queueOrder = new ReviewQueueOrder(order);
  return async (scope: FastifyInstance): Promise<void> => {
    scope.get("/v1/review", { schema: routeSchemas.queue }, async (req) => {
      const query = queueQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(400, "E_VALIDATION", validationMessage(query.error.issues));
      const rows = await guard(async () => {
        const repo = await repository();
        return repo ? queueOrder.page(repo, query.data.offset ?? 0, query.data.limit ?? 100) : [];
      });
      // Cleaned as export cleans them: results stored before the service did may overlap.
      // informativeness: null for results stored before it was measured (or by a pipeline that does not report it).
      return {
        order: order.mode,
        items: rows.map((r) => ({
          id: `${r.jobId}:${r.seq}`,
          text: r.text,
          entities: disjointSpans(r.text, r.entities as { start: number; end: number; score: number }[]),
          audit: r.audit === true,
          informativeness: r.informativeness ?? null,
          ...(r.modelVersion ? { model_version: r.modelVersion } : {}),
        })),
      };
    });

    scope.get("/v1/review/agreement", { schema: routeSchemas.agreement }, async () =>
      guard(async () => {
        const counter = new AgreementCounter();
        const repo = await repository();
        if (!repo) return counter.result();
        const first = await repo.reviewedResultsPage(undefined, PAGE);
        for (const result of first.results) counter.add(result);
        for await (const page of laterPages(repo, first)) for (const result of page) counter.add(result);
        return counter.result();
      }),
    );

    scope.post<{ Params: { id: string } }>("/v1/review/:id", { schema: routeSchemas.review }, async (req) => {
      const ref = parseId(req.params.id);
      const result = ref && (await guard(async () => (await repository())?.result(ref.jobId, ref.seq)));
      if (!ref || !result) throw new HttpError(404, "E_NOT_FOUND", `no result ${req.params.id}`);
      const parsed = reviewBody.safeParse(req.body);
      if (!parsed.success) throw new HttpError(400, "E_VALIDATION", validationMessage(parsed.error.issues));
      const body = parsed.data;
      if (body.spans) {
        try {
          // spansToTags validates (validateSpans) and also checks each span covers a word, as export needs.
          spansToTags({ text: result.text, spans: body.spans }, SCHEMES.IOB2);
        } catch (error) {
          if (error instanceof NerkitError) throw new HttpError(400, "E_VALIDATION", `spans: ${error.message}`);
          throw error;
        }
      }
      await guard(async () => (await repository())!.saveReview({ ...ref, reviewer: body.reviewer, action: body.action, ...(body.spans ? { spans: body.spans } : {}) }));
      if (body.action !== "reject") {
        // Accept keeps every model entity; a correction keeps those whose span and type it repeats.
        const entities = result.entities as { type: string; start: number; end: number }[]; // stored API entities
        const kept = entities.map((e) => body.action === "accept" || (body.spans ?? []).some((s) => s.start === e.start && s.end === e.end && s.label === e.type));
        onReview?.(body.action, entities.map((e) => e.type), kept, result.audit === true);
      } else {
        onReview?.(body.action, [], [], result.audit === true);
      }
      return { id: req.params.id, action: body.action };
    });

    scope.get("/v1/export", { schema: routeSchemas.export }, async (req, reply) => {
      const query = exportQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(400, "E_VALIDATION", validationMessage(query.error.issues));
      const format = query.data.format;
      const repo = await guard(repository);
      const first = repo ? await guard(() => repo.reviewedResultsPage(undefined, PAGE)) : { results: [] };
      async function* chunks(): AsyncGenerator<string> {
        yield formatTrainingData(trainingDocuments(first.results), format);
        if (repo) for await (const page of laterPages(repo, first)) yield formatTrainingData(trainingDocuments(page), format);
      }
      return reply.type(format === "jsonl" ? "application/x-ndjson" : "text/plain; charset=utf-8").send(Readable.from(chunks(), { objectMode: false }));
    });
  };
}
