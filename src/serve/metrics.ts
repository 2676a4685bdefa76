// Prometheus metrics of one app, in a registry of its own (two apps in one process, as in the
// tests, never share counters): request latency by route, documents, entities per type, routing
// outcomes, batch sizes and the queue's length, plus Node's default process metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ServeMetrics {
  registry: Registry;
  requestSeconds: Histogram<"method" | "route" | "status">;
  documents: Counter;
  entities: Counter<"type">;
  decisions: Counter<"level" | "decision">;
  batchSize: Histogram;
  queueLength: Gauge;
}

export function createMetrics(queueLength: () => number): ServeMetrics {
  const registry = new Registry();
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
    documents: new Counter({ name: "nerkit_documents_total", help: "Documents processed", registers: [registry] }),
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
  };
}
