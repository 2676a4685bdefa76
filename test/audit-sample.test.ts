// The audit sample (src/serve/jobs/audit-sample.ts and review/audit-precision.ts): the draw's rate
// within binomial bounds over many documents and reproducible from its seed; the server's runner
// and a worker's chunk drawing the documents the draw names; audit documents in the review queue
// (marked audit); and, after reviews, the audit estimate with its Wilson interval (checked against
// scipy's values) in GET /v1/monitor and /metrics, beside the review-based one called biased, read
// again by a restarted server from the database.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FastifyInstance } from "fastify";
import { buildApp } from "../src/serve/app.js";
import { auditDraw, isAudited } from "../src/serve/jobs/audit-sample.js";
import { processChunk } from "../src/serve/jobs/chunk-worker.js";
import { ReviewPrecisionCache } from "../src/serve/review/audit-precision.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { FakePipeline } from "./fake-pipeline.js";
import { nerkit, readJson, repoRoot, tempDir } from "./helpers.js";
import { serveConfig } from "../src/serve/config.js";
import { jobStatus, submitJob } from "./job-routes.js";

function drawn(seed: number, jobId: string, n: number, rate: number): number[] {
  const seqs: number[] = [];
  for (let seq = 0; seq < n; seq++) if (isAudited({ rate, seed }, jobId, seq, "accept")) seqs.push(seq);
  return seqs;
}

test("the draw's rate stays within binomial bounds, and its values are spread evenly", () => {
  const n = 20_000;
  for (const rate of [0.05, 0.5]) {
    const count = drawn(42, "job-a", n, rate).length;
    // Five standard deviations: the draw is deterministic, so this either always holds or never.
    const sd = Math.sqrt(n * rate * (1 - rate));
    assert.ok(Math.abs(count - n * rate) < 5 * sd, `rate ${rate}: ${count} of ${n}`);
  }
  // Ten equal bins of the draw's values: chi-square with 9 degrees of freedom below 27.9 (p = 0.001).
  const bins = new Array(10).fill(0);
  for (let seq = 0; seq < n; seq++) bins[Math.floor(auditDraw(7, "job-b", seq) * 10)]++;
  const chi2 = bins.reduce((sum, b) => sum + (b - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2.toFixed(1)} over bins ${bins.join(",")}`);
});

test("the draw is reproducible from its seed: same seed, same documents; another seed or job, others", () => {
  const a = drawn(1234, "job", 2000, 0.05);
  assert.deepEqual(drawn(1234, "job", 2000, 0.05), a);
  const b = drawn(1235, "job", 2000, 0.05);
  const c = drawn(1234, "other-job", 2000, 0.05);
  // Independent draws of ~100 documents each share about 5: far from all.
  for (const other of [b, c]) assert.ok(other.filter((s) => a.includes(s)).length < a.length / 2, `${other.length} drawn, overlap too large`);
  // Only auto-accepted documents; rate 0 draws none, rate 1 every accepted one; a job without settings none.
  assert.equal(isAudited({ rate: 1, seed: 1 }, "job", 0, "review"), false);
  assert.equal(isAudited({ rate: 1, seed: 1 }, "job", 0, "accept"), true);
  assert.equal(drawn(1, "job", 500, 0).length, 0);
  assert.equal(isAudited(undefined, "job", 0, "accept"), false);
});

/** Texts the fake pipeline annotates: "Ann Bob ..." (two PER at 0.99: accepted) or with "IBM" (ORG at 0.85: review). */
const texts = Array.from({ length: 80 }, (_, i) => (i % 8 === 7 ? `Ann works at IBM ${i}` : `Ann met Bob ${i}`));

async function untilDone(app: FastifyInstance, id: string): Promise<void> {
  for (let i = 0; (await jobStatus(app, id)).status !== "done"; i++) {
    assert.ok(i < 2000, "the job never finished");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("a worker's chunk stores the audit flags the job's recorded settings draw", async () => {
  const dir = tempDir("nerkit-audit-worker-");
  const repo = SqliteJobRepository.open(join(dir, "jobs.db"));
  try {
    const job = await repo.createJob(texts.map((text) => ({ text })), { rate: 0.3, seed: 99 });
    const annotate = async (batch: string[]) => batch.map((t) => ({ entities: [], decision: t.includes("IBM") ? "review" : "accept" }));
    await processChunk(repo, annotate, { jobId: job.id, first: 0, last: texts.length - 1 });
    const stored = await repo.results(job.id, 0, 1000);
    const expected = texts.map((t, seq) => !t.includes("IBM") && auditDraw(99, job.id, seq) < 0.3);
    assert.deepEqual(stored.map((r) => r.audit === true), expected);
    assert.ok(expected.filter(Boolean).length >= 10, "the case should draw a fair number");
  } finally {
    await repo.close();
  }
});

interface MonitorAudit {
  rate: number;
  seed: number;
  perType: { type: string; reviewed: number; kept: number; precision: number; low: number; high: number }[];
  reviewBased: { type: string; reviewed: number; kept: number; precision: number; biased: boolean }[];
}

test("audit documents enter the review queue; their reviews give the audit estimate in /v1/monitor and /metrics, kept across a restart", async () => {
  const db = join(tempDir("nerkit-audit-serve-"), "jobs.db");
  const config = { db, auditRate: 0.3, auditSeed: 2026 };
  let app = await buildApp({ pipeline: new FakePipeline(), config });
  let jobId: string;
  try {
    jobId = (await submitJob(app, texts)).id;
    await untilDone(app, jobId);
    const queue = (await app.inject("/v1/review?limit=1000")).json() as { items: { id: string; audit: boolean; text: string }[] };
    const expectedAudit = texts.flatMap((t, seq) => (!t.includes("IBM") && auditDraw(2026, jobId, seq) < 0.3 ? [`${jobId}:${seq}`] : []));
    const expectedReview = texts.flatMap((t, seq) => (t.includes("IBM") ? [`${jobId}:${seq}`] : []));
    assert.deepEqual(queue.items.filter((i) => i.audit).map((i) => i.id), expectedAudit);
    // In any order: the default review order spreads these near-identical texts (review/diverse-order.ts).
    assert.deepEqual(queue.items.filter((i) => !i.audit).map((i) => i.id).sort(), [...expectedReview].sort());
    assert.ok(expectedAudit.length >= 12, `${expectedAudit.length} audit documents drawn`);

    // Ten audit documents reviewed (two PER each): nine accepted, one corrected keeping only "Ann"
    // (19 of 20 kept); an eleventh rejected (counts in neither estimate); one review document accepted.
    const review = (id: string, body: object) => app.inject({ method: "POST", url: `/v1/review/${id}`, payload: { reviewer: "ann", ...body } });
    for (const id of expectedAudit.slice(0, 9)) assert.equal((await review(id, { action: "accept" })).statusCode, 200);
    assert.equal((await review(expectedAudit[9], { action: "correct", spans: [{ start: 0, end: 3, label: "PER" }] })).statusCode, 200);
    assert.equal((await review(expectedAudit[10], { action: "reject" })).statusCode, 200);
    assert.equal((await review(expectedReview[0], { action: "accept" })).statusCode, 200);

    const wilson = readJson<{ wilson: { k: number; n: number; confidence: number; low: number; high: number }[] }>(join(repoRoot, "test", "reference", "precision-bounds.json")).wilson.find(
      (c) => c.k === 19 && c.n === 20 && c.confidence === 0.95,
    )!;
    const check = async (where: string) => {
      const monitor = (await app.inject("/v1/monitor")).json() as { audit: MonitorAudit };
      const per = monitor.audit.perType;
      assert.deepEqual(per.map((p) => [p.type, p.reviewed, p.kept, p.precision]), [["PER", 20, 19, 0.95]], where);
      // scipy's interval for 19 of 20 (0.7639, 0.9911); Acklam's z is good to ~1e-9.
      assert.ok(Math.abs(per[0].low - wilson.low) < 1e-8 && Math.abs(per[0].high - wilson.high) < 1e-8, `${where}: ${per[0].low}, ${per[0].high}`);
      assert.deepEqual({ rate: monitor.audit.rate, seed: monitor.audit.seed }, { rate: 0.3, seed: 2026 });
      // The review document: Ann (PER, accepted) and IBM (ORG, review), both kept.
      assert.deepEqual(monitor.audit.reviewBased, [
        { type: "ORG", reviewed: 1, kept: 1, precision: 1, biased: true },
        { type: "PER", reviewed: 1, kept: 1, precision: 1, biased: true },
      ]);
      const metrics = (await app.inject("/metrics")).body;
      const gauge = (bound: string) => Number(new RegExp(`^nerkit_audit_precision\\{type="PER",bound="${bound}"\\} (\\S+)$`, "m").exec(metrics)?.[1]);
      assert.equal(gauge("estimate"), 0.95, where);
      assert.ok(Math.abs(gauge("low") - wilson.low) < 1e-8 && Math.abs(gauge("high") - wilson.high) < 1e-8, where);
      assert.match(metrics, /^nerkit_audit_reviewed_entities\{type="PER"\} 20$/m);
      assert.match(metrics, /^nerkit_audit_kept_entities\{type="PER"\} 19$/m);
      assert.match(metrics, /# HELP nerkit_live_precision .*biased/);
      return metrics;
    };
    const metrics = await check("before the restart");
    // The live (biased) gauge counts the review document only, not the audit ones.
    assert.match(metrics, /^nerkit_live_precision\{type="PER"\} 1$/m);
    assert.match(metrics, /^nerkit_live_precision\{type="ORG"\} 1$/m);
    await app.close();
    app = await buildApp({ pipeline: new FakePipeline(), config });
    await check("after a restart");
  } finally {
    await app.close();
  }
});

test("--audit-rate outside [0, 1] and a bad --audit-seed are usage errors; serveConfig checks the rate too", () => {
  for (const [flag, value, pattern] of [["--audit-rate", "1.5", /--audit-rate expects a number between 0 and 1/], ["--audit-rate", "-0.1", /--audit-rate/], ["--audit-seed", "x", /--audit-seed expects an integer/]] as const) {
    const run = nerkit(["serve", "--model", "/nonexistent", flag, value]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, pattern);
  }
  assert.throws(() => serveConfig({ auditRate: 2 }), /--audit-rate must be a share between 0 and 1/);
  assert.throws(() => serveConfig({ auditSeed: -1 }), /--audit-seed must be a whole number/);
  assert.equal(serveConfig({ auditRate: 0 }).auditRate, 0);
});

test("the estimate's cache: one read shared, read again after a review or maxAgeMs, a failed read not kept", async () => {
  let reads = 0;
  let fail = false;
  const cache = new ReviewPrecisionCache(async () => {
    reads++;
    if (fail) throw new Error("database down");
    return { audit: new Map(), reviewBased: new Map() };
  }, 50);
  await Promise.all([cache.get(), cache.get()]);
  assert.equal(reads, 1);
  cache.invalidate();
  await cache.get();
  assert.equal(reads, 2);
  await new Promise((r) => setTimeout(r, 80));
  fail = true;
  await assert.rejects(cache.get(), /database down/);
  fail = false;
  await cache.get();
  assert.equal(reads, 4, "the failed read was not kept");
});

test("GET /v1/monitor before any job: the sample's settings and empty estimates; /metrics has no audit sample yet", async () => {
  const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(tempDir("nerkit-audit-empty-"), "jobs.db"), auditRate: 0.1, auditSeed: 3 } });
  try {
    const monitor = await app.inject("/v1/monitor");
    assert.equal(monitor.statusCode, 200, monitor.body);
    const body = monitor.json() as { audit: unknown; drift: { enabled: boolean } };
    assert.deepEqual(body.audit, { rate: 0.1, seed: 3, perType: [], reviewBased: [] });
    assert.deepEqual(Object.keys(body).sort(), ["audit", "drift"]);
    assert.doesNotMatch((await app.inject("/metrics")).body, /^nerkit_audit_precision\{/m);
  } finally {
    await app.close();
  }
});
