// The retrain routes: POST /v1/retrain starts one (202 with its id and URL; 409 when one is
// running, or when there is nothing to retrain on yet), GET /v1/retrain/:id gives its status,
// progress, phase, the tail of its log and, once done, the candidate and the gate's record (404 for
// an unknown id), GET /v1/retrain lists retrains newest first, POST /v1/retrain/:id/cancel stops a
// running one (200 with its row, status cancelled; 409 once it has ended; 404 for an unknown id).
// The work is service.ts's.

import { FastifyInstance } from "fastify";
import { HttpError, answeringStorage, validationMessage } from "../http-error.js";
import { pageQuery } from "../schemas.js";
import { RetrainRecord } from "../storage/retrains.js";
import { RetrainService } from "./service.js";

const MAX_PAGE = 1000;
const listQuery = pageQuery(MAX_PAGE);

/** A database that cannot be reached is a 503 (../http-error.ts). */
const guard = answeringStorage;

function body(r: RetrainRecord) {
  return {
    id: r.id,
    status: r.status,
    createdAt: r.createdAt,
    ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
    progress: r.progress,
    phase: r.phase,
    log: r.log,
    ...(r.candidate ? { candidate: r.candidate } : {}),
    ...(r.promoted !== undefined ? { promoted: r.promoted } : {}),
    ...(r.promotionRefused !== undefined ? { promotionRefused: r.promotionRefused } : {}),
    ...(r.gate ? { gate: r.gate } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

export function retrainRoutes(service: RetrainService) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post("/v1/retrain", { schema: { summary: "Start a retrain: fine-tune the serving model on the reviewed documents, gate, promote (202; 409 while one runs)" } }, async (_req, reply) => {
      const outcome = await guard(() => service.start());
      if ("running" in outcome) throw new HttpError(409, "E_RETRAIN_RUNNING", `retrain ${outcome.running.id} is running (${Math.round(outcome.running.progress * 100)}%, ${outcome.running.phase}): one at a time`);
      if ("noReviews" in outcome) throw new HttpError(409, "E_NOTHING_TO_RETRAIN", outcome.noReviews);
      const r = outcome.started;
      return reply.code(202).header("location", `/v1/retrain/${r.id}`).send({ id: r.id, status: r.status, createdAt: r.createdAt });
    });

    app.get("/v1/retrain", { schema: { summary: "Retrains, newest first" } }, async (req) => {
      const query = listQuery.safeParse(req.query);
      if (!query.success) throw new HttpError(400, "E_VALIDATION", validationMessage(query.error.issues));
      const retrains = await guard(() => service.list(query.data.offset ?? 0, query.data.limit ?? 100));
      return { retrains: retrains.map(body) };
    });

    app.get<{ Params: { id: string } }>("/v1/retrain/:id", { schema: { summary: "A retrain's status, progress, log tail and gate record" } }, async (req) => {
      const found = await guard(() => service.get(req.params.id));
      if (!found) throw new HttpError(404, "E_NOT_FOUND", `no retrain ${req.params.id}`);
      return body(found);
    });

    app.post<{ Params: { id: string } }>("/v1/retrain/:id/cancel", { schema: { summary: "Cancel a running retrain: its trainer is stopped, its candidate never promoted, serving untouched (409 once it has ended)" } }, async (req) => {
      const outcome = await guard(() => service.cancel(req.params.id));
      if (!outcome) throw new HttpError(404, "E_NOT_FOUND", `no retrain ${req.params.id}`);
      if ("finished" in outcome) throw new HttpError(409, "E_RETRAIN_FINISHED", `retrain ${outcome.finished.id} has ended already (${outcome.finished.status}): nothing to cancel`);
      return body(outcome.cancelled);
    });
  };
}
