// One test suite for every implementation of the job repository (storage.test.ts runs it against
// SQLite and PostgreSQL): each method of the JobRepository interface, results stored at most once
// (also by two repositories on one database at once), the orders the interface promises, reviews,
// migrations, a 10,000-document job, text the databases cannot store as given, and unavailability.
// Each test gets an empty database of its own, opened through openRepository as the service opens it.
// What it leaves out: what only one database has (WAL, schema_migrations, dropped connections),
// which storage.test.ts checks beside the suite.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { openRepository } from "../src/serve/storage/open.js";
import { DocumentResult, JobRepository, NewDocument, StorageUnavailableError } from "../src/serve/storage/repository.js";

export interface StorageTarget {
  /** A new, empty database for one test: a SQLite file or a postgres:// URL. */
  freshDatabase(): Promise<string>;
  /** A database that cannot be opened now, and the secret in its location that no error may show. */
  unreachableDatabase(): Promise<{ location: string; secret?: string }>;
  /** Locks the jobs table of the database from another connection until the returned function is called. */
  lockJobs(location: string): Promise<() => Promise<void>>;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function documents(n: number, prefix = "Text"): NewDocument[] {
  return Array.from({ length: n }, (_, i) => ({ ...(i % 2 ? { docId: `d${i}` } : {}), text: `${prefix} ${i}` }));
}

/** One result per seq; decisions[seq] when given, else accept. */
function resultsFor(seqs: readonly number[], decisions: Record<number, string> = {}, tag = "PER"): DocumentResult[] {
  return seqs.map((seq) => ({ seq, entities: [{ type: tag, start: 0, end: 4, score: 0.9 }], decision: decisions[seq] ?? "accept" }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export function storageSuite(name: string, target: StorageTarget, options: { skip?: string } = {}): void {
  describe(`job repository: ${name}`, { skip: options.skip }, () => {
    const opened: JobRepository[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()));
    });

    async function open(location: string, busyTimeoutMs?: number): Promise<JobRepository> {
      const repository = await openRepository(location, { busyTimeoutMs });
      opened.push(repository);
      return repository;
    }

    async function fresh(): Promise<JobRepository> {
      return open(await target.freshDatabase());
    }

    it("createJob stores a queued job that getJob reads back; an empty job is done at once; an unknown id is undefined", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(3));
      assert.match(job.createdAt, ISO);
      assert.ok(Math.abs(Date.parse(job.createdAt) - Date.now()) < 60_000);
      assert.deepEqual(job, { id: job.id, createdAt: job.createdAt, status: "queued", total: 3, done: 0 });
      assert.deepEqual(await repo.getJob(job.id), job);
      const empty = await repo.createJob([]);
      assert.deepEqual(await repo.getJob(empty.id), { ...empty, status: "done", total: 0, done: 0 });
      assert.equal(await repo.getJob("nope"), undefined);
    });

    it("unfinishedJobs: queued and running jobs, oldest first (also when created in the same millisecond)", async () => {
      const repo = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await repo.createJob(documents(1))).id);
      await repo.setStatus(ids[1], "done");
      await repo.setStatus(ids[2], "failed", "boom");
      await repo.setStatus(ids[4], "running");
      assert.deepEqual(await repo.unfinishedJobs(), [ids[0], ids[3], ids[4], ids[5]]);
    });

    it("pendingDocuments: the documents without a result, in seq order", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(5));
      await repo.saveResults(job.id, resultsFor([3, 1]));
      assert.deepEqual(await repo.pendingDocuments(job.id), [0, 2, 4].map((seq) => ({ seq, text: `Text ${seq}` })));
      assert.deepEqual(await repo.pendingDocuments("nope"), []);
      // A worker's chunk: both ends included.
      assert.deepEqual(await repo.pendingDocuments(job.id, { first: 1, last: 2 }), [{ seq: 2, text: "Text 2" }]);
      assert.deepEqual(await repo.pendingDocuments(job.id, { first: 2, last: 4 }), [2, 4].map((seq) => ({ seq, text: `Text ${seq}` })));
    });

    it("setStatus records an error and a later status clears it", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(2));
      await repo.setStatus(job.id, "failed", "the model failed to load");
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "failed", error: "the model failed to load" });
      await repo.setStatus(job.id, "running");
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "running" });
    });

    it("saveResults stores a seq once: a second result for it is ignored, in one call or across calls, and overlapping chunks count once", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(6));
      await repo.saveResults(job.id, [...resultsFor([0], {}, "FIRST"), ...resultsFor([0], { 0: "reject" }, "SECOND")]);
      assert.equal((await repo.getJob(job.id))!.done, 1);
      await repo.saveResults(job.id, resultsFor([0, 1], {}, "THIRD"));
      assert.equal((await repo.getJob(job.id))!.done, 2);
      assert.deepEqual((await repo.result(job.id, 0))!.entities, [{ type: "FIRST", start: 0, end: 4, score: 0.9 }]);
      // Byte for byte, key order included: the API's NDJSON is the same on both databases.
      assert.equal(JSON.stringify((await repo.result(job.id, 0))!.entities), '[{"type":"FIRST","start":0,"end":4,"score":0.9}]');
      assert.equal((await repo.result(job.id, 0))!.decision, "accept");
      await repo.saveResults(job.id, resultsFor([1, 2, 3]));
      await repo.saveResults(job.id, resultsFor([2, 3, 4, 5]));
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "done", done: 6 });
      assert.deepEqual((await repo.results(job.id, 0, 100)).map((r) => r.seq), range(0, 6));
    });

    it("regression: two repositories on one database saving the same chunks at once count each document once", async () => {
      const location = await target.freshDatabase();
      const [a, b] = [await open(location), await open(location)];
      const job = await a.createJob(documents(40));
      await Promise.all([
        a.saveResults(job.id, resultsFor(range(0, 20))),
        b.saveResults(job.id, resultsFor(range(0, 20))),
        a.saveResults(job.id, resultsFor(range(10, 30))),
        b.saveResults(job.id, resultsFor(range(20, 40))),
        a.saveResults(job.id, resultsFor(range(20, 40))),
      ]);
      assert.deepEqual(await b.getJob(job.id), { ...job, status: "done", done: 40 });
      assert.deepEqual((await a.results(job.id, 0, 100)).map((r) => r.seq), range(0, 40));
      assert.deepEqual(await a.pendingDocuments(job.id), []);
    });

    it("regression: two repositories saving one large chunk in opposite orders at once neither deadlock nor double count", async () => {
      const location = await target.freshDatabase();
      const [a, b] = [await open(location), await open(location)];
      const job = await a.createJob(documents(4000));
      await Promise.all([a.saveResults(job.id, resultsFor(range(0, 4000))), b.saveResults(job.id, resultsFor(range(0, 4000).reverse()))]);
      assert.deepEqual(await a.getJob(job.id), { ...job, status: "done", done: 4000 });
    });

    it("a job becomes done with its last document; saveResults([]) marks a job whose results are all stored done", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(3));
      await repo.setStatus(job.id, "running");
      await repo.saveResults(job.id, resultsFor([0, 1]));
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "running", done: 2 });
      await repo.saveResults(job.id, resultsFor([2]));
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "done", done: 3 });
      // As after a crash between the last result and the status: resumed, it has nothing pending.
      await repo.setStatus(job.id, "running");
      await repo.saveResults(job.id, []);
      assert.deepEqual(await repo.getJob(job.id), { ...job, status: "done", done: 3 });
      const other = await repo.createJob(documents(2));
      await repo.saveResults(other.id, []);
      assert.deepEqual(await repo.getJob(other.id), other, "saveResults([]) leaves an unfinished job as it is");
    });

    it("results page in seq order with the caller's ids; result() finds one, or undefined", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(7));
      await repo.saveResults(job.id, resultsFor([6, 5, 4]));
      await repo.saveResults(job.id, resultsFor([3, 2, 1, 0], { 2: "review" }));
      assert.deepEqual((await repo.results(job.id, 0, 3)).map((r) => r.seq), [0, 1, 2]);
      assert.deepEqual((await repo.results(job.id, 5, 10)).map((r) => r.seq), [5, 6]);
      assert.deepEqual(await repo.results(job.id, 9, 1), []);
      assert.deepEqual(await repo.results("nope", 0, 10), []);
      const page = await repo.results(job.id, 2, 2);
      assert.deepEqual(page, [
        { seq: 2, text: "Text 2", entities: [{ type: "PER", start: 0, end: 4, score: 0.9 }], decision: "review" },
        { seq: 3, docId: "d3", text: "Text 3", entities: [{ type: "PER", start: 0, end: 4, score: 0.9 }], decision: "accept" },
      ]);
      assert.deepEqual(await repo.result(job.id, 3), { jobId: job.id, ...page[1] });
      for (const [jobId, seq] of [[job.id, 7], [job.id, 2 ** 40], ["nope", 0]] as const) assert.equal(await repo.result(jobId, seq), undefined, `${jobId}:${seq}`);
    });

    it("reviewQueue: results routed to review that no one reviewed, oldest job first, paged", async () => {
      const repo = await fresh();
      const older = await repo.createJob(documents(3, "Older"));
      const newer = await repo.createJob(documents(2, "Newer"));
      await repo.saveResults(older.id, resultsFor([0, 1, 2], { 0: "review", 2: "review" }));
      await repo.saveResults(newer.id, resultsFor([0, 1], { 0: "review", 1: "reject" }));
      const ids = async (offset = 0, limit = 100) => (await repo.reviewQueue(offset, limit)).map((r) => `${r.jobId === older.id ? "older" : "newer"}:${r.seq}`);
      assert.deepEqual(await ids(), ["older:0", "older:2", "newer:0"]);
      assert.deepEqual((await repo.reviewQueue(0, 1))[0], { jobId: older.id, seq: 0, text: "Older 0", entities: resultsFor([0])[0].entities, decision: "review" });
      await repo.saveReview({ jobId: older.id, seq: 0, reviewer: "ann", action: "accept" });
      assert.deepEqual(await ids(), ["older:2", "newer:0"]);
      assert.deepEqual(await ids(1, 1), ["newer:0"]);
      assert.deepEqual(await ids(2, 5), []);
    });

    it("audit sample: a job records its rate and seed; audit results enter the review queue marked audit, and leave it once reviewed", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(4), { rate: 0.25, seed: 2 ** 40 + 7 });
      assert.deepEqual((await repo.getJob(job.id))?.audit, { rate: 0.25, seed: 2 ** 40 + 7 });
      const plain = await repo.createJob(documents(1));
      assert.equal((await repo.getJob(plain.id))?.audit, undefined);
      const results = resultsFor([0, 1, 2, 3], { 1: "review" }).map((r) => ({ ...r, audit: r.seq === 2 || r.seq === 3 }));
      await repo.saveResults(job.id, results);
      const queue = await repo.reviewQueue(0, 100);
      assert.deepEqual(queue.map((r) => [r.seq, r.decision, r.audit]), [[1, "review", undefined], [2, "accept", true], [3, "accept", true]]);
      assert.equal((await repo.result(job.id, 2))?.audit, true);
      assert.equal((await repo.result(job.id, 0))?.audit, undefined);
      assert.deepEqual((await repo.results(job.id, 0, 10)).map((r) => r.audit === true), [false, false, true, true]);
      await repo.saveReview({ jobId: job.id, seq: 2, reviewer: "ann", action: "accept" });
      assert.deepEqual((await repo.reviewQueue(0, 100)).map((r) => r.seq), [1, 3]);
      const reviewed = await repo.reviewedResultsPage(undefined, 10);
      assert.deepEqual(reviewed.results.map((r) => [r.seq, r.audit, r.reviews.length]), [[2, true, 1]]);
    });

    it("review queue and reviewed results come in job then document order, not in the order chunks were stored (flaky under load)", async () => {
      const repo = await fresh();
      const older = await repo.createJob(documents(4, "Older"));
      const newer = await repo.createJob(documents(2, "Newer"));
      // Chunks finish out of order: the newer job's first, then the older job's last documents before its first.
      await repo.saveResults(newer.id, resultsFor([1, 0], { 0: "review", 1: "review" }));
      await repo.saveResults(older.id, resultsFor([3, 2], { 2: "review", 3: "review" }));
      await repo.saveResults(older.id, resultsFor([1, 0], { 0: "review" }));
      const name = (jobId: string, seq: number) => `${jobId === older.id ? "older" : "newer"}:${seq}`;
      assert.deepEqual((await repo.reviewQueue(0, 100)).map((r) => name(r.jobId, r.seq)), ["older:0", "older:2", "older:3", "newer:0", "newer:1"]);
      for (const [jobId, seq] of [[newer.id, 1], [older.id, 3], [newer.id, 0], [older.id, 0]] as const) await repo.saveReview({ jobId, seq, reviewer: "ann", action: "accept" });
      assert.deepEqual((await repo.reviewedResults()).map((r) => name(r.jobId, r.seq)), ["older:0", "older:3", "newer:0", "newer:1"]);
    });

    it("saveReview: the same reviewer again replaces their review, others are kept; reviewedResults in order, reviews oldest first", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(3));
      await repo.saveResults(job.id, resultsFor([0, 1, 2], { 1: "review", 2: "review" }));
      assert.deepEqual(await repo.reviewedResults(), []);
      await repo.saveReview({ jobId: job.id, seq: 2, reviewer: "ann", action: "accept" });
      await repo.saveReview({ jobId: job.id, seq: 2, reviewer: "bob", action: "correct", spans: [{ start: 0, end: 4, label: "ORG" }] });
      await repo.saveReview({ jobId: job.id, seq: 1, reviewer: "ann", action: "reject" });
      await repo.saveReview({ jobId: job.id, seq: 2, reviewer: "ann", action: "correct", spans: [{ start: 0, end: 4, label: "LOC" }] });
      const reviewed = await repo.reviewedResults();
      for (const v of reviewed.flatMap((r) => r.reviews)) assert.match(v.createdAt, ISO);
      assert.deepEqual(
        reviewed.map((r) => ({ ...r, reviews: r.reviews.map(({ createdAt: _, ...v }) => v) })),
        [
          { jobId: job.id, seq: 1, docId: "d1", text: "Text 1", entities: resultsFor([1])[0].entities, decision: "review", reviews: [{ reviewer: "ann", action: "reject" }] },
          {
            jobId: job.id,
            seq: 2,
            text: "Text 2",
            entities: resultsFor([2])[0].entities,
            decision: "review",
            reviews: [
              { reviewer: "bob", action: "correct", spans: [{ start: 0, end: 4, label: "ORG" }] },
              { reviewer: "ann", action: "correct", spans: [{ start: 0, end: 4, label: "LOC" }] },
            ],
          },
        ],
      );
    });

    it("reviewedResultsPage: every limit pages through reviewedResults' list in its order, skipping jobs without reviews", async () => {
      const repo = await fresh();
      const jobs = [];
      for (const n of [4, 3, 2, 5]) jobs.push(await repo.createJob(documents(n)));
      for (const job of jobs) await repo.saveResults(job.id, resultsFor(range(0, job.total)));
      // Job 2 has no review; reviews saved out of document order, one result reviewed twice.
      const reviewed: [number, number][] = [[0, 3], [0, 1], [1, 0], [1, 2], [3, 4], [3, 0], [3, 2]];
      for (const [j, seq] of reviewed) await repo.saveReview({ jobId: jobs[j].id, seq, reviewer: "ann", action: "accept" });
      await repo.saveReview({ jobId: jobs[1].id, seq: 2, reviewer: "bob", action: "correct", spans: [{ start: 0, end: 4, label: "ORG" }] });
      const whole = await repo.reviewedResults();
      assert.equal(whole.length, 7);
      for (const limit of [1, 2, 3, 7, 100]) {
        const paged = [];
        let next: string | undefined;
        let pages = 0;
        do {
          const page = await repo.reviewedResultsPage(next, limit);
          assert.ok(page.results.length <= limit);
          paged.push(...page.results);
          next = page.next;
          assert.ok(++pages <= 8, "the pages end");
        } while (next !== undefined);
        assert.deepEqual(paged, whole, `limit ${limit}`);
      }
      assert.deepEqual(await (await fresh()).reviewedResultsPage(undefined, 10), { results: [] });
    });

    it("reviewedResultsPage: a review saved between pages shows once if it is ahead of the cursor, not at all if behind", async () => {
      const repo = await fresh();
      const job = await repo.createJob(documents(6));
      await repo.saveResults(job.id, resultsFor(range(0, 6)));
      for (const seq of [1, 3]) await repo.saveReview({ jobId: job.id, seq, reviewer: "ann", action: "accept" });
      const first = await repo.reviewedResultsPage(undefined, 1);
      assert.deepEqual(first.results.map((r) => r.seq), [1]);
      await repo.saveReview({ jobId: job.id, seq: 0, reviewer: "ann", action: "accept" });
      await repo.saveReview({ jobId: job.id, seq: 5, reviewer: "ann", action: "accept" });
      await repo.saveReview({ jobId: job.id, seq: 1, reviewer: "bob", action: "reject" });
      const rest = await repo.reviewedResultsPage(first.next, 10);
      assert.deepEqual(rest.results.map((r) => r.seq), [3, 5]);
      assert.equal(rest.next, undefined);
    });

    it("listJobs: newest first, paged, with status and counts", async () => {
      const repo = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await repo.createJob(documents(i + 1))).id);
      await repo.saveResults(ids[1], resultsFor([0]));
      await repo.setStatus(ids[3], "failed", "boom");
      const listed = await repo.listJobs(0, 10);
      assert.deepEqual(listed.map((j) => j.id), [...ids].reverse());
      assert.deepEqual(listed.map((j) => [j.total, j.done, j.status]), [[5, 0, "queued"], [4, 0, "failed"], [3, 0, "queued"], [2, 1, "queued"], [1, 0, "queued"]]);
      assert.equal(listed[1].error, "boom");
      assert.deepEqual(listed[3], await repo.getJob(ids[1]));
      assert.deepEqual((await repo.listJobs(1, 2)).map((j) => j.id), [ids[3], ids[2]]);
      assert.deepEqual(await repo.listJobs(5, 2), []);
    });

    it("deleteJob: a finished job goes with its documents, results and reviews; an unfinished one stays; others are untouched", async () => {
      const repo = await fresh();
      const [gone, kept, running] = [await repo.createJob(documents(3)), await repo.createJob(documents(2)), await repo.createJob(documents(2))];
      for (const job of [gone, kept]) {
        await repo.saveResults(job.id, resultsFor(range(0, job.total), { 1: "review" }));
        await repo.saveReview({ jobId: job.id, seq: 0, reviewer: "ann", action: "accept" });
      }
      await repo.setStatus(running.id, "running");
      assert.equal(await repo.deleteJob(running.id), "unfinished");
      assert.equal(await repo.deleteJob(gone.id), "deleted");
      assert.equal(await repo.deleteJob(gone.id), "not-found");
      assert.equal(await repo.deleteJob("nope"), "not-found");
      assert.equal(await repo.getJob(gone.id), undefined);
      assert.deepEqual(await repo.results(gone.id, 0, 10), []);
      assert.deepEqual(await repo.pendingDocuments(gone.id), []);
      assert.equal(await repo.result(gone.id, 0), undefined);
      assert.deepEqual((await repo.reviewedResults()).map((r) => r.jobId), [kept.id]);
      assert.deepEqual((await repo.reviewQueue(0, 10)).map((r) => r.jobId), [kept.id]);
      assert.deepEqual((await repo.listJobs(0, 10)).map((j) => j.id), [running.id, kept.id]);
      assert.deepEqual(await repo.pendingDocuments(running.id), [0, 1].map((seq) => ({ seq, text: `Text ${seq}` })));
      // A failed job can go too.
      await repo.setStatus(running.id, "failed", "boom");
      assert.equal(await repo.deleteJob(running.id), "deleted");
      assert.deepEqual((await repo.listJobs(0, 10)).map((j) => j.id), [kept.id]);
    });

    it("deleteJob that cannot take the lock is StorageUnavailableError and deletes nothing", async () => {
      const location = await target.freshDatabase();
      const repo = await open(location, 100);
      const job = await repo.createJob(documents(2));
      await repo.saveResults(job.id, resultsFor([0, 1]));
      const release = await target.lockJobs(location);
      try {
        await assert.rejects(repo.deleteJob(job.id), StorageUnavailableError);
      } finally {
        await release();
      }
      assert.equal((await repo.results(job.id, 0, 10)).length, 2);
      assert.equal(await repo.deleteJob(job.id), "deleted");
    });

    it("finishedJobsBefore: done and failed jobs created before the time, oldest first, at most limit", async () => {
      const repo = await fresh();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await repo.createJob(documents(1))).id);
      await repo.saveResults(ids[0], resultsFor([0]));
      await repo.setStatus(ids[1], "failed", "boom");
      await repo.saveResults(ids[3], resultsFor([0]));
      const later = new Date(Date.now() + 60_000).toISOString();
      assert.deepEqual(await repo.finishedJobsBefore(later, 10), [ids[0], ids[1], ids[3]]);
      assert.deepEqual(await repo.finishedJobsBefore(later, 2), [ids[0], ids[1]]);
      const created = (await repo.getJob(ids[0]))!.createdAt;
      assert.deepEqual(await repo.finishedJobsBefore(created, 10), [], "strictly before");
      // Jobs created in the same millisecond as the first (likely here) all count.
      const sameMs = new Set((await repo.listJobs(0, 10)).filter((j) => j.createdAt === created).map((j) => j.id));
      assert.deepEqual(await repo.finishedJobsBefore(new Date(Date.parse(created) + 1).toISOString(), 10), [ids[0], ids[1], ids[3]].filter((id) => sameMs.has(id)));
    });

    it("migrations run once: opening a database again, or twice at once, keeps its data", async () => {
      const location = await target.freshDatabase();
      await Promise.all([open(location), open(location)]);
      const job = await (await open(location)).createJob(documents(2));
      await Promise.all(opened.splice(0).map((r) => r.close()));
      for (let i = 0; i < 2; i++) {
        const again = await open(location);
        assert.deepEqual(await again.getJob(job.id), job);
        await Promise.all(opened.splice(0).map((r) => r.close()));
      }
    });

    it("10,000 documents go in with one createJob in well under a few seconds", async () => {
      const repo = await fresh();
      const texts = documents(10_000, "A document of a large job, number");
      const started = performance.now();
      const job = await repo.createJob(texts);
      const ms = performance.now() - started;
      assert.ok(ms < 3000, `createJob of 10,000 documents took ${Math.round(ms)} ms`);
      const pending = await repo.pendingDocuments(job.id);
      assert.equal(pending.length, 10_000);
      assert.deepEqual(pending[9_999], { seq: 9_999, text: texts[9_999].text });
    });

    it("text: astral characters and combining marks are kept; NUL and lone surrogates become U+FFFD, one unit for one", async () => {
      const repo = await fresh();
      const given = ["Zoë in 北京 😀 👩‍👩‍👧 مرحبا", "a\ud800b", "\udc00x\ud83d", "nul\0byte", "\ud83d\ude00 pair"];
      const stored = ["Zoë in 北京 😀 👩‍👩‍👧 مرحبا", "a\uFFFDb", "\uFFFDx\uFFFD", "nul\uFFFDbyte", "\ud83d\ude00 pair"];
      const job = await repo.createJob(given.map((text) => ({ docId: `id ${text}`, text })));
      assert.deepEqual(await repo.pendingDocuments(job.id), stored.map((text, seq) => ({ seq, text })));
      await repo.saveResults(job.id, given.map((text, seq) => ({ seq, entities: [{ text, start: 0, end: text.length }], decision: "review" })));
      const results = await repo.results(job.id, 0, 10);
      assert.deepEqual(results.map((r) => r.docId), stored.map((text) => `id ${text}`));
      assert.deepEqual(results.map((r) => r.entities), stored.map((text) => [{ text, start: 0, end: text.length }]));
      for (const [i, r] of results.entries()) assert.equal(r.text.length, given[i].length, "offsets into the caller's text still hold");
      await repo.saveReview({ jobId: job.id, seq: 1, reviewer: "zoë 😀\0", action: "accept" });
      // The same reviewer, whose name is stored changed: the second review still replaces the first.
      await repo.saveReview({ jobId: job.id, seq: 1, reviewer: "zoë 😀\0", action: "correct", spans: [{ start: 0, end: 1, label: "PER\ud800" }] });
      assert.deepEqual((await repo.reviewedResults())[0].reviews.map(({ reviewer, spans }) => ({ reviewer, spans })), [{ reviewer: "zoë 😀\uFFFD", spans: [{ start: 0, end: 1, label: "PER\uFFFD" }] }]);
      assert.equal(await repo.getJob("\0"), undefined);
    });

    it("a database that cannot be opened is StorageUnavailableError, and the message does not show the password", async () => {
      const { location, secret } = await target.unreachableDatabase();
      const error = await openRepository(location).then(
        () => assert.fail("opened"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StorageUnavailableError, String(error));
      if (secret) assert.ok(!error.message.includes(secret) && !String(error.stack).includes(secret), error.message);
    });

    it("a write that waits longer than busyTimeoutMs for another connection's lock is StorageUnavailableError; it works once the lock goes", async () => {
      const location = await target.freshDatabase();
      const repo = await open(location, 100);
      const release = await target.lockJobs(location);
      try {
        await assert.rejects(repo.createJob(documents(1)), StorageUnavailableError);
      } finally {
        await release();
      }
      assert.equal((await repo.createJob(documents(1))).total, 1);
    });
  });
}
