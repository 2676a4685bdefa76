// The registry's routes, behind the API key like every /v1 route: GET /v1/models (the serving id
// and every version, oldest first), GET /v1/models/:id, POST /v1/models/:id/promote (answers the new
// serving version once new requests go to it; rollback is promoting the previous version) and
// POST /v1/models/:id/retire. An unknown id is 404 E_MODEL_NOT_FOUND, a refused retirement 409
// E_MODEL_STATUS, a promotion refused because the version's calibration.json lacks a threshold serve
// routes on (--target-precision) 409 E_MODEL_CALIBRATION, a database that cannot be reached 503.
// What it leaves out: what promotion does (registry-service.ts) and retraining's routes.

import { FastifyInstance } from "fastify";
import { z } from "zod";
import { NerkitError } from "../../errors.js";
import { HttpError, storageAnswer } from "../http-error.js";
import { errorResponse, jsonSchema } from "../schemas.js";
import type { ModelRegistry, ModelVersion } from "./registry.js";
import { modelNotFound } from "./registry-service.js";

const scores = z.object({ microF1: z.number(), perType: z.record(z.string(), z.number()), support: z.number().int() });

export const modelVersionSchema = z.object({
  id: z.string().describe("v1, v2, ... in the order versions were made"),
  parent: z.string().optional().describe("the version it was fine-tuned from"),
  createdAt: z.string(),
  madeBy: z.string().describe("how it was made, one line"),
  folder: z.string().describe("the version's model folder (under serve --models)"),
  status: z.enum(["serving", "candidate", "retired"]),
  trainingData: z.object({ files: z.array(z.string()), sha256: z.string(), reviewedDocuments: z.number().int() }).optional(),
  gate: z
    .object({
      decision: z.enum(["promote", "keep-candidate"]),
      reason: z.string(),
      gold: z.object({ source: z.enum(["gold-file", "holdout"]), path: z.string().optional(), documents: z.number().int(), sha256: z.string() }),
      candidate: scores,
      serving: scores.extend({ version: z.string() }),
      promoteMargin: z.number(),
      maxTypeDrop: z.number(),
    })
    .optional()
    .describe("the gate's comparison, for versions made by a retrain"),
  calibration: z.object({ method: z.string(), created: z.string().optional(), entities: z.number().int().optional() }).optional(),
  promotedAt: z.string().optional().describe("when it last became serving"),
});

const listResponse = z.object({ serving: z.string().nullable().describe("the serving version's id"), models: z.array(modelVersionSchema) });
const idParams = z.object({ id: z.string().describe("a model version id, e.g. v2") });

/** The registry's errors as the API answers them. */
function answered(error: unknown): unknown {
  if (error instanceof NerkitError && error.code === "E_MODEL_NOT_FOUND") return new HttpError(404, error.code, error.message);
  if (error instanceof NerkitError && (error.code === "E_MODEL_STATUS" || error.code === "E_MODEL_CALIBRATION")) return new HttpError(409, error.code, error.message);
  return storageAnswer(error);
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw answered(error);
  }
}

export function modelRoutes(registry: ModelRegistry) {
  return async (scope: FastifyInstance): Promise<void> => {
    const error = jsonSchema(errorResponse);
    const version = jsonSchema(modelVersionSchema);
    const params = jsonSchema(idParams);
    scope.get("/v1/models", { schema: { summary: "The model versions, oldest first, and the serving one", response: { 200: jsonSchema(listResponse), 401: error, 503: error } } }, async () =>
      guard(async () => {
        const models = await registry.list();
        return { serving: models.find((m) => m.status === "serving")?.id ?? null, models };
      }),
    );
    scope.get<{ Params: { id: string } }>("/v1/models/:id", { schema: { summary: "One model version", params, response: { 200: version, 401: error, 404: error, 503: error } } }, async (req) =>
      guard(async (): Promise<ModelVersion> => {
        const found = await registry.get(req.params.id);
        if (!found) throw modelNotFound(req.params.id);
        return found;
      }),
    );
    const promote = "Makes the version serving without downtime (loaded beside the serving one, new requests switched to it, the old one closed when its requests finish; the old one becomes retired). Rollback: promote the previous version";
    scope.post<{ Params: { id: string } }>("/v1/models/:id/promote", { schema: { summary: promote, params, response: { 200: version, 400: error, 401: error, 404: error, 409: error, 503: error } } }, async (req) =>
      guard(() => registry.promote(req.params.id)),
    );
    scope.post<{ Params: { id: string } }>("/v1/models/:id/retire", { schema: { summary: "Retires a candidate or retired version (the serving one cannot be: 409)", params, response: { 200: version, 401: error, 404: error, 409: error, 503: error } } }, async (req) =>
      guard(() => registry.retire(req.params.id)),
    );
  };
}
