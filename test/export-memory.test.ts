// /v1/export and /v1/review/agreement over 100,000 reviewed documents in a process whose JavaScript
// heap is capped at 64 MB: both answer in full (every document exported, agreement as computed by
// hand), and the heap's peak grows by less than 48 MB. Before they paged through the repository,
// they held every reviewed result at once: the same run died at the cap ("heap out of memory",
// after 2 s), and without the cap its heap grew by 361 MB and RSS by 490 MB (measured on the
// shared, loaded machine; with paging: heap +31 MB, RSS +77 MB under the cap).
// The results are stored through the repository; the reviews by one INSERT … SELECT, since
// 200,000 saveReview transactions (an fsync each) would take minutes.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { repoRoot, tempDir } from "./helpers.js";

const N = 100_000;
const BATCH = 5000;

test("export and agreement over 100,000 reviewed documents stay within a 64 MB heap", async () => {
  const file = join(tempDir("nerkit-export-memory-"), "jobs.db");
  const repo = SqliteJobRepository.open(file);
  const job = await repo.createJob(Array.from({ length: N }, (_, i) => ({ text: `Alice Smith of ACME met document ${i}.` })));
  const entities = [{ type: "PER", text: "Alice Smith", start: 0, end: 11, score: 0.9, decision: "review" }];
  for (let first = 0; first < N; first += BATCH) await repo.saveResults(job.id, Array.from({ length: BATCH }, (_, i) => ({ seq: first + i, entities, decision: "review" })));
  await repo.close();
  // ann accepts every document; bob, later, accepts the first 5,000 and rejects the next 5,000.
  const db = new Database(file);
  db.exec(`INSERT INTO reviews (job_id, seq, reviewer, action, spans, created_at)
           SELECT job_id, seq, 'ann', 'accept', NULL, '2026-01-01T00:00:00.000Z' FROM results;
           INSERT INTO reviews (job_id, seq, reviewer, action, spans, created_at)
           SELECT job_id, seq, 'bob', CASE WHEN seq < 5000 THEN 'accept' ELSE 'reject' END, NULL, '2026-01-02T00:00:00.000Z' FROM results WHERE seq < 10000;`);
  db.close();

  const child = spawnSync(process.execPath, ["--max-old-space-size=64", join(repoRoot, "dist", "test", "export-memory-child.js"), file], { encoding: "utf8", timeout: 120_000 });
  assert.equal(child.status, 0, `the export process failed: ${child.stderr.slice(-2000)}`);
  const report = JSON.parse(child.stdout) as {
    counts: Record<string, { lines: number; bytes: number; status: number }>;
    agreement: { documents: number; f1: number; kappa: number };
    before: { rss: number; heap: number };
    peak: { rss: number; heap: number };
  };
  // Latest review wins: bob's 5,000 rejections leave 95,000 documents.
  assert.deepEqual(report.counts.jsonl.status, 200);
  assert.equal(report.counts.jsonl.lines, N - 5000);
  // 10,000 documents with two reviews; ann: B-PER I-PER O×6, bob the same on 5,000 and O×8 on 5,000.
  // F1: 5,000 matched of ann's 10,000 and bob's 5,000 entities → P 1, R 1/2 → 2/3. Kappa: p_o = 70,000/80,000;
  // p_e = (10,000·5,000 + 10,000·5,000 + 60,000·70,000) / 80,000² = 0.671875 → kappa = 13/21.
  assert.equal(report.agreement.documents, 10_000);
  assert.ok(Math.abs(report.agreement.f1 - 2 / 3) < 1e-12, String(report.agreement.f1));
  assert.ok(Math.abs(report.agreement.kappa - 13 / 21) < 1e-12, String(report.agreement.kappa));
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const heapGrowth = report.peak.heap - report.before.heap;
  const rssGrowth = report.peak.rss - report.before.rss;
  assert.ok(heapGrowth < 48 * 2 ** 20, `heap grew by ${mb(heapGrowth)} MB`);
  assert.ok(rssGrowth < 200 * 2 ** 20, `RSS grew by ${mb(rssGrowth)} MB`);
});
