// GET /v1/monitor: how the model is doing in production, as one JSON object for dashboards and the
// UI's Monitor page. Key `audit`: precision per type from the audit sample's reviews with its 95%
// Wilson interval, beside the biased estimate from reviews of documents routed to review
// (review/audit-precision.ts), with the sample's rate and seed.
// What it leaves out: computing anything itself (each key's module does), and drift (its own key).

import { FastifyInstance } from "fastify";
import { HttpError } from "../http-error.js";
import { AuditMonitor } from "../review/audit-precision.js";
import { StorageUnavailableError } from "../storage/repository.js";

export interface MonitorSources {
  audit: () => Promise<AuditMonitor>;
}

export function monitorRoutes(sources: MonitorSources) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.get("/v1/monitor", { schema: { summary: "Production monitoring: audit precision per type (unbiased, with a 95% Wilson interval) beside the biased review-based estimate" } }, async () => {
      try {
        return { audit: await sources.audit() };
      } catch (error) {
        if (error instanceof StorageUnavailableError) throw new HttpError(503, "E_STORAGE_UNAVAILABLE", error.message, { "retry-after": "1" });
        throw error;
      }
    });
  };
}
