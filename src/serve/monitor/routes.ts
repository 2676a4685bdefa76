// GET /v1/monitor: what a team watches in production, in one answer for the UI's Monitor page and
// for scripts. Key `drift`: the drift monitor's report (../drift/monitor.ts). It needs the API key
// like every /v1 route.
// What it leaves out: computing anything; each key is its owner's report.

import { FastifyInstance } from "fastify";
import { DriftMonitor } from "../drift/monitor.js";

export interface MonitorSources {
  drift: DriftMonitor;
}

export function monitorRoutes(sources: MonitorSources) {
  return async (scope: FastifyInstance): Promise<void> => {
    scope.get("/v1/monitor", { schema: { summary: "Production monitoring: drift of the recent documents against the model's reference profile" } }, async () => ({
      drift: sources.drift.report(),
    }));
  };
}
