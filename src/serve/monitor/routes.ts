// GET /v1/monitor: how the model is doing in production, as one JSON object for dashboards, scripts
// and the UI's Monitor page. Key `audit`: precision per type from the audit sample's reviews with its
// 95% Wilson interval, beside the biased estimate from reviews of documents routed to review
// (review/audit-precision.ts), with the sample's rate and seed. Key `drift`: the drift monitor's
// report on recent documents against the model's reference profile (../drift/monitor.ts). It needs
// the API key like every /v1 route.
// What it leaves out: computing anything itself; each key is its owner's report.

import { FastifyInstance } from "fastify";
import { storageAnswer } from "../http-error.js";
import { AuditMonitor } from "../review/audit-precision.js";
import { DriftMonitor } from "../drift/monitor.js";

export interface MonitorSources {
  audit: () => Promise<AuditMonitor>;
  drift: DriftMonitor;
}

export function monitorRoutes(sources: MonitorSources) {
  return async (scope: FastifyInstance): Promise<void> => {
    const summary = "Production monitoring: audit precision per type (unbiased, with a 95% Wilson interval) beside the biased review-based estimate, and drift of recent documents against the model's reference profile";
    scope.get("/v1/monitor", { schema: { summary } }, async () => {
      try {
        return { audit: await sources.audit(), drift: sources.drift.report() };
      } catch (error) {
        throw storageAnswer(error);
      }
    });
  };
}
