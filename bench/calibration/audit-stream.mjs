// The audit estimate against the truth on a simulated stream through the service (the app in
// process, as the tests drive it): the test sentences (words joined by spaces, one document each)
// go in as one batch job on a SQLite job database; routing uses the accept thresholds calibrate
// recorded for a precision target (as `serve --target-precision` builds them); every audit document
// in the review queue is answered from the gold tags (a correction listing the gold entities, so an
// entity is kept exactly when gold has its span and type), and so, optionally, is every document
// routed to review. GET /v1/monitor's audit.perType (estimate and 95% Wilson interval) is then
// compared with the truth: the precision, against gold, of the auto-accepted entities of every
// auto-accepted document (what the audit sample is drawn from).
// Left out: workers and queues (the server's own runner annotates the job).

import { join } from "node:path";
import { buildApp } from "../../dist/src/serve/app.js";
import { targetThresholds } from "../../dist/src/serve/precision-routing.js";
import { addPrecisionTarget, noTargets } from "../../dist/src/metrics/precision-thresholds.js";
import { auditDraw } from "../../dist/src/serve/jobs/audit-sample.js";
import { wilsonInterval } from "../../dist/src/metrics/precision-bounds.js";
import { goldSpans, spanKey } from "./measures.mjs";

async function ok(response, what) {
  if (response.statusCode >= 300) throw new Error(`${what}: ${response.statusCode} ${response.body}`);
  return response;
}

/** Every row of a paged GET (offset/limit), read before anything changes what it lists. */
async function allPages(app, url, pick, limit = 1000) {
  const rows = [];
  for (let offset = 0; ; offset += limit) {
    const r = await ok(await app.inject(`${url}${url.includes("?") ? "&" : "?"}offset=${offset}&limit=${limit}`), url);
    const page = pick(r);
    rows.push(...page);
    if (page.length < limit) return rows;
  }
}

/**
 * sentences: [{tokens, tags}]; pipeline: the calibrated model's; calibration: its CalibrationFile.
 * Returns the monitor's audit key, the truth per type and the counts of the stream.
 */
export async function auditStream({ pipeline, calibration, modelDir, sentences, target, auditRate, auditSeed, dir, reviewAll }) {
  const targets = targetThresholds(calibration, addPrecisionTarget(String(target), noTargets()), 0.95, modelDir);
  const config = { db: join(dir, "jobs.db"), auditRate, auditSeed, targets, maxBatch: 16 };
  // The service closes the pipeline it is given; the caller still needs this one.
  const shared = { run: (t, o) => pipeline.run(t, o), close: async () => {}, arch: pipeline.arch, tokenizer: pipeline.tokenizer };
  const app = await buildApp({ pipeline: shared, config });
  try {
    const texts = sentences.map((s) => s.tokens.join(" "));
    const started = performance.now();
    const created = await ok(
      await app.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } }),
      "POST /v1/jobs",
    );
    const jobId = created.json().id;
    for (;;) {
      const status = (await ok(await app.inject(`/v1/jobs/${jobId}`), "GET /v1/jobs/:id")).json();
      if (status.status === "done") break;
      if (status.status === "failed") throw new Error(`the job failed: ${status.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const jobSeconds = (performance.now() - started) / 1000;
    const results = await allPages(app, `/v1/jobs/${jobId}/results`, (r) => r.body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)));
    if (results.length !== texts.length) throw new Error(`${results.length} results for ${texts.length} documents`);

    const gold = sentences.map((s) => goldSpans(s.tokens, s.tags));
    const goldKeys = gold.map((spans) => new Set(spans.map((g) => spanKey(g.start, g.end, g.label))));
    for (const r of results) if (r.text !== texts[r.seq]) throw new Error(`document ${r.seq}: stored text differs from what was sent`);

    // The truth: every auto-accepted document's auto-accepted entities against gold.
    const truth = new Map();
    const count = (map, type, right) => {
      const c = map.get(type) ?? { entities: 0, correct: 0, documents: 0 };
      c.entities++;
      if (right) c.correct++;
      map.set(type, c);
    };
    let acceptedDocuments = 0;
    for (const r of results) {
      if (r.decision !== "accept") continue;
      acceptedDocuments++;
      for (const e of r.entities) if (e.decision === "accept") count(truth, e.type, goldKeys[r.seq].has(spanKey(e.start, e.end, e.type)));
    }

    const queue = await allPages(app, "/v1/review", (r) => r.json().items);
    const audited = queue.filter((i) => i.audit);
    const audit = new Map(); // per type, recounted here from the stored results: the service's count should match
    const auditedDocsByType = new Map();
    const answer = async (item) => {
      const seq = Number(item.id.slice(item.id.lastIndexOf(":") + 1));
      await ok(await app.inject({ method: "POST", url: `/v1/review/${item.id}`, payload: { reviewer: "gold", action: "correct", spans: gold[seq] } }), `POST /v1/review/${item.id}`);
      return seq;
    };
    for (const item of audited) {
      const seq = await answer(item);
      const types = new Set();
      for (const e of results[seq].entities) {
        if (e.decision !== "accept") continue;
        count(audit, e.type, goldKeys[seq].has(spanKey(e.start, e.end, e.type)));
        types.add(e.type);
      }
      for (const t of types) auditedDocsByType.set(t, (auditedDocsByType.get(t) ?? 0) + 1);
    }
    const inReview = queue.filter((i) => !i.audit);
    if (reviewAll) for (const item of inReview) await answer(item);
    const monitor = (await ok(await app.inject("/v1/monitor"), "GET /v1/monitor")).json().audit;
    return { results, goldKeys, jobSeconds, documents: texts.length, acceptedDocuments, reviewDocuments: inReview.length, auditedDocuments: audited.length, reviewAll, targets, monitor, truth, audit, auditedDocsByType };
  } finally {
    await app.close();
  }
}

/**
 * One stream gives one interval per type. To see how often the interval covers the truth, the
 * audit draw is repeated offline on the same stored results: the service's draw, auditDraw(seed,
 * job id, seq), with `replicates` other job ids, each counted as the monitor counts it (accepted
 * entities of audit documents, kept when gold has them) and given the same Wilson interval.
 */
export function replicateCoverage({ results, goldKeys, truth, auditRate, auditSeed, replicates }) {
  const coverage = new Map();
  for (let r = 0; r < replicates; r++) {
    const counts = new Map();
    for (const result of results) {
      if (result.decision !== "accept" || !(auditDraw(auditSeed, `replicate-${r}`, result.seq) < auditRate)) continue;
      for (const e of result.entities) {
        if (e.decision !== "accept") continue;
        const c = counts.get(e.type) ?? { n: 0, k: 0 };
        c.n++;
        if (goldKeys[result.seq].has(spanKey(e.start, e.end, e.type))) c.k++;
        counts.set(e.type, c);
      }
    }
    for (const [type, t] of truth) {
      const row = coverage.get(type) ?? { type, replicates: 0, withEntities: 0, covered: 0, entities: 0 };
      row.replicates++;
      const c = counts.get(type);
      if (c) {
        row.withEntities++;
        row.entities += c.n;
        const { low, high } = wilsonInterval(c.k, c.n, 0.95);
        const p = t.correct / t.entities;
        if (low <= p && p <= high) row.covered++;
      }
      coverage.set(type, row);
    }
  }
  return [...coverage.values()].sort((a, b) => (a.type < b.type ? -1 : 1));
}
