// The job and review routes on PostgreSQL (--db postgres://...), in process (app.inject) with the
// fake pipeline: a job's results come back in order, the review queue, reviews and the export work
// over them, a job stopped half way resumes in a new app on the same database without losing or
// doubling a document, and a server that cannot be reached is a 503 that does not show the password.
// The routes' other behaviour is the same whatever the database and is tested on SQLite (jobs.test.ts,
// review.test.ts). Skipped, with the reason, where no PostgreSQL can be had (postgres-server.ts).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import pg from "pg";
import { buildApp } from "../src/serve/app.js";
import { FakePipeline } from "./fake-pipeline.js";
import { closedPortUrl, postgresSkipReason, testPostgres } from "./postgres-server.js";

// Awaited before any test is registered, so that the runner does not start in between.
const skip = await postgresSkipReason();
const database = skip ? undefined : await testPostgres();
after(() => database?.drop());

async function submit(app: FastifyInstance, docs: { id?: string; text: string }[]) {
  const r = await app.inject({ method: "POST", url: "/v1/jobs", payload: docs.map((d) => JSON.stringify(d)).join("\n"), headers: { "content-type": "application/x-ndjson" } });
  return { status: r.statusCode, body: r.json() as { id: string; error?: { code: string; message: string } } };
}

async function waitFor(app: FastifyInstance, id: string, until: (p: { status: string; done: number }) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const p = (await app.inject(`/v1/jobs/${id}`)).json() as { id: string; status: string; total: number; done: number };
    if (until(p)) return p;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${id} never got there`);
}

async function storedCounts(jobId: string): Promise<{ seq: number; n: number }[]> {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    return (await client.query<{ seq: number; n: number }>("SELECT seq, count(*)::int AS n FROM results WHERE job_id = $1 GROUP BY seq ORDER BY seq", [jobId])).rows;
  } finally {
    await client.end();
  }
}

describe("jobs and reviews on PostgreSQL", { skip }, () => {
  test("a job's results page in order; the review queue, reviews and the export work over them", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: database!.url, maxBatch: 2 } });
    try {
      const docs = [{ id: "a", text: "Alice met Bob" }, { text: "Alice joined ACME" }, { id: "c", text: "Bob left IBM" }, { text: "Zoë 😀 saw Carol" }, { text: "plain" }];
      const created = await submit(app, docs);
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const id = created.body.id;
      assert.deepEqual(await waitFor(app, id, (p) => p.status === "done"), { id, status: "done", total: 5, done: 5 });

      const page = await app.inject(`/v1/jobs/${id}/results?offset=1&limit=3`);
      assert.equal(page.statusCode, 200, page.body);
      assert.match(String(page.headers["content-type"]), /^application\/x-ndjson/);
      const rows = page.body.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; id?: string; text: string; entities: { type: string; text: string }[]; decision: string });
      assert.deepEqual(rows.map(({ seq, id, text, decision }) => ({ seq, id, text, decision })), [
        { seq: 1, id: undefined, text: "Alice joined ACME", decision: "review" },
        { seq: 2, id: "c", text: "Bob left IBM", decision: "review" },
        { seq: 3, id: undefined, text: "Zoë 😀 saw Carol", decision: "accept" },
      ]);
      assert.deepEqual(rows[2].entities.map((e) => `${e.type} ${e.text}`), ["PER Zoë", "PER Carol"]);

      const queue = async () => ((await app.inject("/v1/review")).json() as { items: { id: string }[] }).items.map((i) => i.id);
      assert.deepEqual(await queue(), [`${id}:1`, `${id}:2`]);
      const review = (ref: string, payload: object) => app.inject({ method: "POST", url: `/v1/review/${ref}`, payload });
      assert.equal((await review(`${id}:1`, { reviewer: "ann", action: "accept" })).statusCode, 200);
      assert.equal((await review(`${id}:2`, { reviewer: "ann", action: "reject" })).statusCode, 200);
      // ann changes her mind: her correction replaces her rejection.
      assert.equal((await review(`${id}:2`, { reviewer: "ann", action: "correct", spans: [{ start: 0, end: 3, label: "PER" }, { start: 9, end: 12, label: "LOC" }] })).statusCode, 200);
      assert.equal((await review(`${id}:99999999999`, { reviewer: "ann", action: "accept" })).statusCode, 404);
      assert.deepEqual(await queue(), []);

      const exported = await app.inject("/v1/export?format=jsonl");
      assert.equal(exported.statusCode, 200, exported.body);
      assert.deepEqual(exported.body.trim().split("\n").map((l) => JSON.parse(l) as object), [
        { id: `${id}:1`, text: "Alice joined ACME", spans: [{ start: 0, end: 5, label: "PER", text: "Alice" }, { start: 13, end: 17, label: "ORG", text: "ACME" }] },
        { id: `${id}:2`, text: "Bob left IBM", spans: [{ start: 0, end: 3, label: "PER", text: "Bob" }, { start: 9, end: 12, label: "LOC", text: "IBM" }] },
      ]);
    } finally {
      await app.close();
    }
  });

  test("a job stopped half way resumes in a new app on the same database, no document lost or doubled", async () => {
    const docs = Array.from({ length: 12 }, (_, i) => ({ id: `d${i}`, text: `Person${"abcdefghijkl"[i]} here` }));
    const app1 = await buildApp({ pipeline: new FakePipeline(20), config: { db: database!.url, maxBatch: 2 } });
    const { body } = await submit(app1, docs);
    await waitFor(app1, body.id, (p) => p.done >= 2);
    await app1.close();
    const stored = await storedCounts(body.id);
    assert.ok(stored.length < 12, `stopped after ${stored.length} documents`);

    const second = new FakePipeline();
    const app2 = await buildApp({ pipeline: second, config: { db: database!.url, maxBatch: 2 } });
    try {
      assert.equal((await waitFor(app2, body.id, (p) => p.status === "done")).done, 12);
      for (const { seq } of stored) assert.ok(!second.texts.includes(docs[seq].text), `seq ${seq} annotated again`);
    } finally {
      await app2.close();
    }
    assert.deepEqual(await storedCounts(body.id), Array.from({ length: 12 }, (_, seq) => ({ seq, n: 1 })));
  });
});

test("a PostgreSQL server that cannot be reached is 503 E_STORAGE_UNAVAILABLE, and the message does not show the password", async () => {
  const secret = "pg-password-never-shown";
  const app = await buildApp({ pipeline: new FakePipeline(), config: { db: await closedPortUrl(secret) } });
  try {
    const created = await submit(app, [{ text: "Alice" }]);
    assert.equal(created.status, 503, JSON.stringify(created.body));
    assert.equal(created.body.error?.code, "E_STORAGE_UNAVAILABLE");
    assert.match(created.body.error!.message, /ECONNREFUSED/);
    const queue = await app.inject("/v1/review");
    assert.equal(queue.statusCode, 503);
    for (const text of [created.body.error!.message, queue.body]) assert.ok(!text.includes(secret), text);
  } finally {
    await app.close();
  }
});

// Last: its audit documents stay in the database the file's tests share.
describe("audit sample on PostgreSQL", { skip }, () => {
  test("audit sample on PostgreSQL: audit documents in the review queue, and the audit estimate in /v1/monitor across a restart", async () => {
    // Rate 1: every auto-accepted document is drawn. "Ann met Bob": two PER at 0.99 (accepted); "IBM": ORG at 0.85 (review).
    const config = { db: database!.url, auditRate: 1, auditSeed: 9 };
    let app = await buildApp({ pipeline: new FakePipeline(), config });
    try {
      const created = await submit(app, [{ text: "Ann met Bob" }, { text: "Eve saw IBM" }, { text: "Cy met Di" }]);
      const id = created.body.id;
      await waitFor(app, id, (p) => p.status === "done");
      const items = ((await app.inject("/v1/review?limit=1000")).json() as { items: { id: string; audit: boolean }[] }).items.filter((i) => i.id.startsWith(`${id}:`));
      // The default review order (uncertainty) puts audit documents first.
      assert.deepEqual(items.map((i) => [i.id, i.audit]), [[`${id}:0`, true], [`${id}:2`, true], [`${id}:1`, false]]);
      const review = (seq: number, body: object) => app.inject({ method: "POST", url: `/v1/review/${id}:${seq}`, payload: { reviewer: "ann", ...body } });
      assert.equal((await review(0, { action: "accept" })).statusCode, 200);
      assert.equal((await review(2, { action: "correct", spans: [{ start: 7, end: 9, label: "PER" }] })).statusCode, 200);
      const check = async () => {
        const audit = ((await app.inject("/v1/monitor")).json() as { audit: { rate: number; seed: number; perType: { type: string; reviewed: number; kept: number }[] } }).audit;
        assert.deepEqual([audit.rate, audit.seed], [1, 9]);
        // Other tests' jobs share this database but none has audit reviews: 4 PER reviewed, 3 kept.
        assert.deepEqual(audit.perType.map((p) => [p.type, p.reviewed, p.kept]), [["PER", 4, 3]]);
      };
      await check();
      await app.close();
      app = await buildApp({ pipeline: new FakePipeline(), config });
      await check();
    } finally {
      await app.close();
    }
  });
});
