// Prometheus metrics of one app, in a registry of its own (two apps in one process, as in the
// tests, never share counters): request latency by route, documents, entities per type, routing
// outcomes, batch sizes and the queue's length, review outcomes and live precision per type
// estimated from reviews, storage calls of batch jobs retried while the job database was
// unavailable, plus Node's default process metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ServeMetrics {
  registry: Registry;
  requestSeconds: Histogram<"method" | "route" | "status">;
  /** By source: the entities route, redaction, or a batch job annotated in this process. */
  documents: Counter<"source">;
  entities: Counter<"type">;
  decisions: Counter<"level" | "decision">;
  batchSize: Histogram;
  queueLength: Gauge;
  reviews: Counter<"action">;
  /** Storage calls of in-process batch jobs that found the database unavailable and were tried again. */
  storageRetries: Counter;
  /** Records one review: which of the model's entities the reviewer confirmed, per type. */
  recordReview(entityTypes: readonly string[], confirmed: readonly boolean[]): void;
}

export function createMetrics(queueLength: () => number): ServeMetrics {
  const registry = new Registry();
  // Live precision per type: of the model's entities that reviewers looked at, the share they kept.
  const reviewed = new Map<string, number>();
  const kept = new Map<string, number>();
  new Gauge({
    name: "nerkit_live_precision",
    help: "Precision per entity type estimated from reviews (model entities kept by reviewers / reviewed)",
    labelNames: ["type"],
    registers: [registry],
    collect() {
      for (const [type, n] of reviewed) this.set({ type }, (kept.get(type) ?? 0) / n);
    },
  });
  collectDefaultMetrics({ register: registry, prefix: "nerkit_" });
  return {
    registry,
    requestSeconds: new Histogram({
      name: "nerkit_http_request_duration_seconds",
      help: "HTTP request latency by route",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    documents: new Counter({ name: "nerkit_documents_total", help: "Documents processed, by source (entities, redact, job)", labelNames: ["source"], registers: [registry] }),
    entities: new Counter({ name: "nerkit_entities_total", help: "Entities returned, by type", labelNames: ["type"], registers: [registry] }),
    decisions: new Counter({
      name: "nerkit_routing_decisions_total",
      help: "Routing outcomes, per entity and per document",
      labelNames: ["level", "decision"],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "nerkit_batch_size",
      help: "Texts per pipeline run",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    queueLength: new Gauge({
      name: "nerkit_queue_length",
      help: "Texts waiting for a pipeline run",
      registers: [registry],
      collect() {
        this.set(queueLength());
      },
    }),
    reviews: new Counter({ name: "nerkit_review_outcomes_total", help: "Reviews by action", labelNames: ["action"], registers: [registry] }),
    storageRetries: new Counter({
      name: "nerkit_job_storage_retries_total",
      help: "Storage calls of batch jobs that found the job database unavailable and were tried again after a wait",
      registers: [registry],
    }),
    recordReview(entityTypes, confirmed) {
      entityTypes.forEach((type, i) => {
        reviewed.set(type, (reviewed.get(type) ?? 0) + 1);
        if (confirmed[i]) kept.set(type, (kept.get(type) ?? 0) + 1);
      });
    },
  };
}
