// The review order (serve --review-order) on both databases: each mode's order against one worked
// out here (uncertainty: audit documents first in job order, then informativeness, unmeasured last;
// random: audit first, then MD5 of "seed:job:seq" computed here with node:crypto, so SQLite's
// registered function and PostgreSQL's md5 must agree; fifo: job order), pages that slice one
// order, the diversity step over more documents than one database read; then through the routes:
// the option visibly changes GET /v1/review, which gives the order and each score; a worker's
// chunk stores the score as the server does; bad flags are usage errors; and a database made
// before migration 5 opens with its results unmeasured.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { minhash } from "../src/text/minhash.js";
import { buildApp } from "../src/serve/app.js";
import { annotator } from "../src/serve/jobs/annotate.js";
import { processChunk } from "../src/serve/jobs/chunk-worker.js";
import { normalisedEntropy } from "../src/metrics/informativeness.js";
import { diverseOrder, DEFAULT_DIVERSITY } from "../src/serve/review/diverse-order.js";
import { ReviewQueueOrder } from "../src/serve/review/queue-order.js";
import { openRepository } from "../src/serve/storage/open.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../src/serve/storage/sqlite.js";
import Database from "better-sqlite3";
import { DocumentResult, JobRepository, JobResult, ReviewOrder, ReviewOrderMode } from "../src/serve/storage/repository.js";
import { readScoredTexts } from "../src/serve/reading.js";
import { FakePipeline, ScoringPipeline } from "./fake-pipeline.js";
import { jobStatus, submitJob } from "./job-routes.js";
import { postgresSkipReason, testPostgres } from "./postgres-server.js";
import { nerkit, tempDir } from "./helpers.js";
import { serveConfig } from "../src/serve/config.js";

const postgresSkip = await postgresSkipReason();
const dir = tempDir("nerkit-review-order-");
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const key = (r: { jobId: string; seq: number }) => `${r.jobId}:${r.seq}`;

/** A repository on a fresh database of the kind; closed (and dropped) after the test. */
type Fresh = (t: { after: (fn: () => Promise<void>) => void }) => Promise<JobRepository>;

const targets: [string, Fresh, string | undefined][] = [
  [
    "SQLite",
    async (t) => {
      const repo = await openRepository(join(dir, `jobs-${files++}.db`));
      t.after(() => repo.close());
      return repo;
    },
    undefined,
  ],
  [
    "PostgreSQL",
    async (t) => {
      const database = (await testPostgres())!;
      const repo = await openRepository(database.url);
      t.after(async () => {
        await repo.close();
        await database.drop();
      });
      return repo;
    },
    postgresSkip,
  ],
];

/** A job of texts with the results given (seq in order), stored; answers its id. */
async function storedJob(repo: JobRepository, texts: string[], results: Omit<DocumentResult, "seq" | "entities">[]): Promise<string> {
  const job = await repo.createJob(texts.map((text) => ({ text })));
  await repo.saveResults(job.id, results.map((r, seq) => ({ seq, entities: [], ...r })));
  return job.id;
}

async function wholeQueue(repo: JobRepository, order: ReviewOrder, pageSize = 2): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await repo.reviewQueue(offset, pageSize, order);
    ids.push(...page.map(key));
    if (page.length < pageSize) return ids;
  }
}

for (const [name, fresh, skip] of targets) {
  describe(`review order on ${name}`, { skip }, () => {
    test("each mode's order, paged; informativeness stored and read back", async (t) => {
      const repo = await fresh(t);
      const first = await storedJob(repo, ["a", "b", "c", "d", "e", "f"], [
        { decision: "review", informativeness: 0.2 },
        { decision: "accept", audit: true, informativeness: 0.05 },
        { decision: "review", informativeness: 0.9 },
        { decision: "review" },
        { decision: "review", informativeness: 0.5 },
        { decision: "accept", audit: true, informativeness: 0.99 },
      ]);
      const second = await storedJob(repo, ["g", "h"], [{ decision: "review", informativeness: 0.95 }, { decision: "accept", informativeness: 1 }]);
      const a = (seq: number) => `${first}:${seq}`;
      const b = (seq: number) => `${second}:${seq}`;

      assert.deepEqual(await wholeQueue(repo, { mode: "fifo" }), [a(0), a(1), a(2), a(3), a(4), a(5), b(0)]);
      assert.deepEqual(await wholeQueue(repo, { mode: "uncertainty" }), [a(1), a(5), b(0), a(2), a(4), a(0), a(3)]);
      for (const seed of [7, 8]) {
        const shuffled = [a(0), a(2), a(3), a(4), b(0)].sort((x, y) => (md5(`${seed}:${x}`) < md5(`${seed}:${y}`) ? -1 : 1));
        assert.deepEqual(await wholeQueue(repo, { mode: "random", seed }), [a(1), a(5), ...shuffled]);
      }
      // Without an order: fifo, as before.
      assert.deepEqual((await repo.reviewQueue(0, 100)).map(key), await wholeQueue(repo, { mode: "fifo" }));

      assert.deepEqual((await repo.results(first, 0, 6)).map((r) => r.informativeness), [0.2, 0.05, 0.9, undefined, 0.5, 0.99]);
      assert.equal((await repo.result(second, 0))?.informativeness, 0.95);
      // A reviewed document leaves; the others keep their relative order.
      await repo.saveReview({ jobId: first, seq: 2, reviewer: "ann", action: "accept" });
      assert.deepEqual(await wholeQueue(repo, { mode: "uncertainty" }), [a(1), a(5), b(0), a(4), a(0), a(3)]);
    });

    test("the diversity step: pages of any size are slices of one order that spreads near-duplicates, over more documents than one read", async (t) => {
      const repo = await fresh(t);
      // 450 documents, informativeness falling with seq; every third one a near-copy of one text.
      const n = 450;
      const texts = Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? `Acme Corporation released its quarterly report on Monday morning in Berlin copy ${i}` : `Document ${i} talks about topic ${i * 7919} and nothing else ${i}`,
      );
      const id = await storedJob(repo, texts, texts.map((_, i) => ({ decision: "review", informativeness: 1 - i / n })));
      const order = new ReviewQueueOrder({ mode: "uncertainty" });
      const expected = diverseOrder(
        texts.map((text, seq) => ({ seq, text })),
        (d) => minhash(d.text),
      ).map((d) => `${id}:${d.seq}`);
      // The premise: copies are spread, so the order is not the database's.
      assert.notDeepEqual(expected, texts.map((_, seq) => `${id}:${seq}`));
      const firstTen = expected.slice(0, 10).map((k) => Number(k.split(":")[1]));
      assert.equal(firstTen.filter((seq) => seq % 3 === 0).length, 1, `the first ten: ${firstTen}`);
      for (const size of [7, 100, 1000]) {
        const ids: string[] = [];
        for (let offset = 0; offset < n; offset += size) ids.push(...(await order.page(repo, offset, size)).map(key));
        assert.deepEqual(ids, expected, `pages of ${size}`);
      }
      assert.equal(DEFAULT_DIVERSITY.window, 10);
    });
  });
}

async function untilDone(app: Awaited<ReturnType<typeof buildApp>>, id: string): Promise<void> {
  for (let i = 0; (await jobStatus(app, id)).status !== "done"; i++) {
    assert.ok(i < 2000, "the job never finished");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("GET /v1/review in each order", () => {
  // All capitals: an ORG at 0.85, so every document goes to review; "Ann" alone: accepted (audited at rate 1).
  const texts = ["IBM? alpha", "IBM bravo", "IBM??? charlie", "Ann", "IBM?? delta", "IBM? echo"];
  const entropy = (q: number) => normalisedEntropy([1 - q, q]);

  test("the option changes the order; each item has its informativeness, audit documents first; pages slice one order", async () => {
    const orders = new Map<string, { order: string; items: { id: string; audit: boolean; informativeness: number | null }[] }>();
    let jobId = "";
    const db = join(dir, "route.db");
    for (const reviewOrder of ["uncertainty", "fifo", "random"] as const) {
      const app = await buildApp({ pipeline: new ScoringPipeline(), config: { db, reviewOrder, reviewSeed: 3, auditRate: 1, auditSeed: 1 } });
      try {
        if (!jobId) {
          jobId = (await submitJob(app, texts)).id;
          await untilDone(app, jobId);
        }
        const r = await app.inject("/v1/review?limit=100");
        assert.equal(r.statusCode, 200, r.body);
        orders.set(reviewOrder, r.json());
        // Paging: pages of two give the same order.
        const paged: string[] = [];
        for (let offset = 0; offset < texts.length; offset += 2) paged.push(...(await app.inject(`/v1/review?offset=${offset}&limit=2`)).json().items.map((i: { id: string }) => i.id));
        assert.deepEqual(paged, orders.get(reviewOrder)!.items.map((i) => i.id));
      } finally {
        await app.close();
      }
    }
    const seqs = (mode: string) => orders.get(mode)!.items.map((i) => Number(i.id.split(":")[1]));
    assert.deepEqual(seqs("fifo"), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(seqs("uncertainty"), [3, 2, 4, 0, 5, 1]);
    const shuffled = [0, 1, 2, 4, 5].sort((x, y) => (md5(`3:${jobId}:${x}`) < md5(`3:${jobId}:${y}`) ? -1 : 1));
    assert.deepEqual(seqs("random"), [3, ...shuffled]);
    for (const mode of ["uncertainty", "fifo", "random"]) assert.equal(orders.get(mode)!.order, mode);
    const byId = new Map(orders.get("uncertainty")!.items.map((i) => [i.id, i]));
    for (const [seq, q] of [[0, 0.1], [1, 0], [2, 0.3], [3, 0], [4, 0.2], [5, 0.1]]) {
      const item = byId.get(`${jobId}:${seq}`)!;
      assert.ok(Math.abs(item.informativeness! - entropy(q)) < 1e-12, `${seq}: ${item.informativeness} vs ${entropy(q)}`);
      assert.equal(item.audit, seq === 3);
    }
  });

  test("a pipeline that reports no distributions stores none: informativeness null, the queue in job order", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(dir, "unscored.db") } });
    try {
      const { id } = await submitJob(app, ["IBM", "NASA", "ACME"]);
      await untilDone(app, id);
      const body = (await app.inject("/v1/review")).json() as { order: string; items: { id: string; informativeness: number | null }[] };
      assert.equal(body.order, "uncertainty");
      assert.deepEqual(body.items.map((i) => [i.id, i.informativeness]), [[`${id}:0`, null], [`${id}:1`, null], [`${id}:2`, null]]);
    } finally {
      await app.close();
    }
  });

  test("--review-uncertain: a document with no entity in the review band goes to review when informative enough (server and worker alike)", async (t) => {
    // "Ann??", "Bob???", "Cy": one accepted PER each, informativeness entropy(0.2), entropy(0.3), 0; "ann": no entity, 0.
    const plain = ["Ann??", "Bob???", "Cy", "ann"];
    const u = (entropy(0.2) + entropy(0.3)) / 2; // between the two
    const queued = async (reviewUncertain?: number) => {
      const app = await buildApp({ pipeline: new ScoringPipeline(), config: { db: join(dir, `uncertain-${files++}.db`), ...(reviewUncertain !== undefined ? { reviewUncertain } : {}) } });
      try {
        const { id } = await submitJob(app, plain);
        await untilDone(app, id);
        const body = (await app.inject("/v1/review?limit=100")).json() as { items: { id: string; informativeness: number }[] };
        return body.items.map((i) => Number(i.id.split(":")[1]));
      } finally {
        await app.close();
      }
    };
    assert.deepEqual(await queued(), []);
    assert.deepEqual(await queued(u), [1]);
    assert.deepEqual(await queued(0), [1, 0, 2, 3]);
    // A worker routes on the chunk's routing, which carries the same option.
    const repo = await targets[0][1](t);
    const job = await repo.createJob(plain.map((text) => ({ text })));
    const pipeline = new ScoringPipeline();
    const annotate = annotator((batch) => readScoredTexts(pipeline, batch), { accept: 0.95, review: 0.8, perType: {}, uncertain: u });
    await processChunk(repo, annotate, { jobId: job.id, first: 0, last: plain.length - 1 });
    const stored = await Promise.all(plain.map(async (_, seq) => (await repo.result(job.id, seq))!.decision));
    assert.deepEqual(stored, ["accept", "review", "accept", "accept"]);
    assert.throws(() => serveConfig({ reviewUncertain: 1.5 }), /between 0 and 1/);
  });

  test("a worker's chunk stores the informativeness as the server does", async (t) => {
    const repo = await targets[0][1](t);
    const job = await repo.createJob(texts.map((text) => ({ text })));
    const pipeline = new ScoringPipeline();
    const annotate = annotator((batch) => readScoredTexts(pipeline, batch), { accept: 0.95, review: 0.8, perType: {} });
    assert.equal(await processChunk(repo, annotate, { jobId: job.id, first: 0, last: texts.length - 1 }), texts.length);
    const stored: JobResult[] = await Promise.all(texts.map(async (_, seq) => (await repo.result(job.id, seq))!));
    assert.deepEqual(stored.map((r) => r.informativeness), [0.1, 0, 0.3, 0, 0.2, 0.1].map(entropy));
  });
});

test("--review-order other than uncertainty, random or fifo and a bad --review-seed are usage errors; serveConfig checks them too", () => {
  for (const [flag, value, pattern] of [["--review-order", "bogus", /--review-order must be one of uncertainty, random, fifo, got 'bogus'/], ["--review-seed", "x", /--review-seed expects an integer/]] as const) {
    const run = nerkit(["serve", "--model", "/nonexistent", flag, value]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, pattern);
  }
  assert.throws(() => serveConfig({ reviewOrder: "newest" as ReviewOrderMode }), /--review-order must be one of uncertainty, random, fifo/);
  assert.throws(() => serveConfig({ reviewSeed: -1 }), /--review-seed must be a whole number/);
  assert.equal(serveConfig({}).reviewOrder, "uncertainty");
});

test("a database made before migration 5 is migrated at open; its results read as unmeasured and come last in the uncertainty order", async () => {
  const file = join(dir, "before-5.db");
  const old = new Database(file);
  old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 3)) {
    old.exec(m.sql);
    old.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(m.version, new Date().toISOString());
  }
  old.prepare("INSERT INTO jobs (id, created_at, status, total, done_count) VALUES ('old', '2026-01-01T00:00:00.000Z', 'done', 1, 1)").run();
  old.prepare("INSERT INTO documents (job_id, seq, text, status) VALUES ('old', 0, 'IBM then', 'done')").run();
  old.prepare("INSERT INTO results (job_id, seq, entities, decision) VALUES ('old', 0, '[]', 'review')").run();
  old.close();
  const repo = await openRepository(file);
  try {
    const id = await storedJob(repo, ["IBM now"], [{ decision: "review", informativeness: 0.1 }]);
    assert.deepEqual((await repo.reviewQueue(0, 10, { mode: "uncertainty" })).map((r) => [key(r), r.informativeness]), [[`${id}:0`, 0.1], ["old:0", undefined]]);
    assert.deepEqual((await repo.reviewQueue(0, 10, { mode: "fifo" })).map(key), ["old:0", `${id}:0`]);
  } finally {
    await repo.close();
  }
});
