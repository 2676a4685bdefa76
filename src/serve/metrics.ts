// Prometheus metrics of one app, in a registry of its own (two apps in one process, as in the
// tests, never share counters): request latency by route, documents, entities per type, routing
// outcomes, batch sizes and the queue's length, review outcomes and live precision per type
// estimated from reviews (biased: only documents the model was unsure of are reviewed), the audit
// sample's precision per type (unbiased, with its 95% Wilson interval, read from the job database
// at each scrape), storage calls of batch jobs retried while the job database was unavailable,
// plus Node's default process metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { AuditMonitor } from "./review/audit-precision.js";

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

/** queueLength: texts waiting; audit: the audit estimate now (from the database; a failure leaves the audit gauges out of that scrape). */
export function createMetrics(queueLength: () => number, audit?: () => Promise<AuditMonitor>): ServeMetrics {
  const registry = new Registry();
  // Live precision per type: of the model's entities that reviewers looked at, the share they kept.
  const reviewed = new Map<string, number>();
  const kept = new Map<string, number>();
  new Gauge({
    name: "nerkit_live_precision",
    help: "Precision per entity type estimated from reviews of documents routed to review (model entities kept by reviewers / reviewed); biased: only documents the model was unsure of are reviewed, see nerkit_audit_precision",
    labelNames: ["type"],
    registers: [registry],
    collect() {
      for (const [type, n] of reviewed) this.set({ type }, (kept.get(type) ?? 0) / n);
    },
  });
  if (audit) auditGauges(registry, audit);
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

/** The audit sample's estimate: one database read per scrape, shared by the three gauges. */
function auditGauges(registry: Registry, audit: () => Promise<AuditMonitor>): void {
  // The precision gauge, collected first in a scrape (registration order), reads the database; the
  // count gauges after it reuse that read, so the three agree and a scrape costs one read.
  let scrape: Promise<AuditMonitor | undefined> | undefined;
  const fresh = () => (scrape = audit().catch(() => undefined));
  const current = () => scrape ?? fresh();
  new Gauge({
    name: "nerkit_audit_precision",
    help: "Precision per entity type of auto-accepted entities, from reviews of the audit sample (serve --audit-rate; unbiased): the estimate and its 95% Wilson interval (bound low, high)",
    labelNames: ["type", "bound"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of (await fresh())?.perType ?? []) {
        this.set({ type: t.type, bound: "estimate" }, t.precision);
        this.set({ type: t.type, bound: "low" }, t.low);
        this.set({ type: t.type, bound: "high" }, t.high);
      }
    },
  });
  new Gauge({
    name: "nerkit_audit_reviewed_entities",
    help: "Auto-accepted entities of reviewed audit documents, per type",
    labelNames: ["type"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of (await current())?.perType ?? []) this.set({ type: t.type }, t.reviewed);
    },
  });
  new Gauge({
    name: "nerkit_audit_kept_entities",
    help: "Auto-accepted entities of reviewed audit documents that the reviewer kept, per type",
    labelNames: ["type"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of (await current())?.perType ?? []) this.set({ type: t.type }, t.kept);
    },
  });
}
