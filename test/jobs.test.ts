// Batch jobs, in process (app.inject) with a fake pipeline: a job completes with one stored result
// per document in order, results page, bad JSONL lines and unknown ids are clear errors, a job
// interrupted by a shutdown resumes in a new app on the same SQLite file without losing or doubling
// a document, and an unusable database file is a 503, not a crash. What the repository itself does
// (migrations included) is storage-suite.ts's, run by storage.test.ts.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { FastifyInstance } from "fastify";
import { buildApp } from "../src/serve/app.js";
import { parseJobBody } from "../src/serve/jobs/routes.js";
import { SqliteJobRepository } from "../src/serve/storage/sqlite.js";
import { FakePipeline } from "./fake-pipeline.js";
import { sqliteResultCounts } from "./job-routes.js";

const dir = mkdtempSync(join(tmpdir(), "nerkit-jobs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function jsonl(docs: object[]): string {
  return docs.map((d) => JSON.stringify(d)).join("\n") + "\n";
}

async function submit(app: FastifyInstance, body: string, contentType = "application/x-ndjson") {
  const r = await app.inject({ method: "POST", url: "/v1/jobs", payload: body, headers: { "content-type": contentType } });
  return { status: r.statusCode, location: r.headers.location, body: r.json() as { id: string; status: string; total: number; error?: { code: string; message: string } } };
}

async function progress(app: FastifyInstance, id: string) {
  return (await app.inject(`/v1/jobs/${id}`)).json() as { id: string; status: string; total: number; done: number };
}

async function waitFor(app: FastifyInstance, id: string, until: (p: { status: string; done: number }) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const p = await progress(app, id);
    if (until(p)) return p;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${id} never got there: ${JSON.stringify(await progress(app, id))}`);
}

async function results(app: FastifyInstance, id: string, query = "") {
  const r = await app.inject(`/v1/jobs/${id}/results${query}`);
  assert.equal(r.statusCode, 200, r.body);
  assert.match(String(r.headers["content-type"]), /^application\/x-ndjson/);
  return r.body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { seq: number; id?: string; text: string; entities: { text: string }[]; decision: string });
}


describe("batch jobs", () => {
  test("a job completes; each result stored once, in order, with the caller's ids", async () => {
    const file = join(dir, "complete.db");
    const fake = new FakePipeline();
    const app = await buildApp({ pipeline: fake, config: { db: file, maxBatch: 3 } });
    try {
      const docs = Array.from({ length: 10 }, (_, i) => (i % 2 ? { id: `d${i}`, text: `Alice${"abcdefghij"[i]} met Bob` } : { text: `Carol number ${i}` }));
      const created = await submit(app, jsonl(docs));
      assert.equal(created.status, 202, JSON.stringify(created.body));
      assert.equal(created.location, `/v1/jobs/${created.body.id}`);
      assert.deepEqual(Object.keys(created.body).sort(), ["id", "status", "total"]);
      assert.equal(created.body.total, 10);
      const done = await waitFor(app, created.body.id, (p) => p.status === "done");
      assert.deepEqual(done, { id: created.body.id, status: "done", total: 10, done: 10 });
      const rows = await results(app, created.body.id);
      assert.deepEqual(rows.map((r) => r.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      rows.forEach((r, i) => {
        assert.equal(r.text, docs[i].text);
        assert.equal(r.id, (docs[i] as { id?: string }).id);
        assert.deepEqual(r.entities.map((e) => e.text), [...docs[i].text.matchAll(/\p{Lu}\p{Ll}*/gu)].map((m) => m[0]));
        assert.equal(r.decision, "accept");
      });
      assert.deepEqual([...fake.texts].sort(), docs.map((d) => d.text).sort());
      // Job documents count in the metrics beside the live ones, with their entities per type.
      const metrics = (await app.inject("/metrics")).body;
      assert.match(metrics, /nerkit_documents_total\{source="job"\} 10\n/);
      assert.match(metrics, /nerkit_entities_total\{type="PER"\} 15\n/);
    } finally {
      await app.close();
    }
    assert.deepEqual(sqliteResultCounts(file), Array.from({ length: 10 }, (_, seq) => ({ seq, n: 1 })));
  });

  test("results page with offset and limit; a bad page is 400", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: ":memory:" } });
    try {
      const { body } = await submit(app, jsonl(Array.from({ length: 7 }, (_, i) => ({ text: `Text ${i}` }))), "text/plain");
      await waitFor(app, body.id, (p) => p.status === "done");
      assert.deepEqual((await results(app, body.id, "?offset=2&limit=3")).map((r) => r.seq), [2, 3, 4]);
      assert.deepEqual((await results(app, body.id, "?offset=5")).map((r) => r.seq), [5, 6]);
      assert.deepEqual(await results(app, body.id, "?offset=9"), []);
      const bad = await app.inject(`/v1/jobs/${body.id}/results?limit=0`);
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error.message, /limit/);
    } finally {
      await app.close();
    }
  });

  test("a bad JSONL line is 400 naming the line; unknown ids are 404; JSON bodies are 415", async () => {
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: ":memory:" } });
    try {
      const cases: [string, RegExp][] = [
        ['{"text": "ok"}\n{"text": "ok"\n', /^line 2: not valid JSON/],
        ['{"text": "ok"}\n\n{"text": ""}\n', /^line 3: text: must not be empty/],
        ['{"text": "ok", "colour": 1}\n', /^line 1: unknown field\(s\): colour/],
        ['"just a string"\n', /^line 1: must be a JSON object/],
        ['{"id": 5, "text": "a"}\n', /^line 1: id: must be a string/],
        ["\n\n", /no document/],
      ];
      for (const [body, message] of cases) {
        const r = await submit(app, body);
        assert.equal(r.status, 400, body);
        assert.equal(r.body.error!.code, "E_VALIDATION");
        assert.match(r.body.error!.message, message);
      }
      const json = await app.inject({ method: "POST", url: "/v1/jobs", payload: { text: "a" } });
      assert.equal(json.statusCode, 415);
      for (const url of ["/v1/jobs/nope", "/v1/jobs/nope/results"]) {
        const r = await app.inject(url);
        assert.equal(r.statusCode, 404, url);
        assert.deepEqual(r.json(), { error: { code: "E_NOT_FOUND", message: "no job nope" } });
      }
      // The entities endpoint stays JSON only.
      assert.equal((await app.inject({ method: "POST", url: "/v1/entities", payload: "hi", headers: { "content-type": "text/plain" } })).statusCode, 415);
    } finally {
      await app.close();
    }
  });

  test("parseJobBody: CRLF line ends and blank lines", () => {
    assert.deepEqual(parseJobBody('{"text":"a"}\r\n\r\n{"id":"x","text":"b"}'), [{ docId: undefined, text: "a" }, { docId: "x", text: "b" }]);
  });

  test("crash: a job stopped half way resumes in a new app on the same file, no document lost or doubled", async () => {
    const file = join(dir, "crash.db");
    const docs = Array.from({ length: 12 }, (_, i) => ({ id: `d${i}`, text: `Person${"abcdefghijkl"[i]} here` }));
    const first = new FakePipeline(20);
    const app1 = await buildApp({ pipeline: first, config: { db: file, maxBatch: 2 } });
    const { body } = await submit(app1, jsonl(docs));
    const part = await waitFor(app1, body.id, (p) => p.done >= 2);
    await app1.close();
    const stored = sqliteResultCounts(file);
    assert.ok(part.done < 12 && stored.length < 12, `stopped after ${stored.length} documents`);

    const second = new FakePipeline();
    const app2 = await buildApp({ pipeline: second, config: { db: file, maxBatch: 2 } });
    try {
      const done = await waitFor(app2, body.id, (p) => p.status === "done");
      assert.equal(done.done, 12);
      // The new process annotated only what the first had not stored.
      for (const { seq } of stored) assert.ok(!second.texts.includes(docs[seq].text), `seq ${seq} annotated again`);
      const rows = await results(app2, body.id);
      assert.deepEqual(rows.map((r) => r.id), docs.map((d) => d.id));
    } finally {
      await app2.close();
    }
    assert.deepEqual(sqliteResultCounts(file), Array.from({ length: 12 }, (_, seq) => ({ seq, n: 1 })));
  });

  test("an unusable database is 503 with a JSON error, not a crash", async () => {
    const notADir = join(dir, "plain-file");
    writeFileSync(notADir, "x");
    const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(notADir, "jobs.db") } });
    try {
      const r = await submit(app, jsonl([{ text: "Alice" }]));
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error!.code, "E_STORAGE_UNAVAILABLE");
    } finally {
      await app.close();
    }

    const file = join(dir, "locked.db");
    await SqliteJobRepository.open(file).close();
    const locker = new Database(file);
    locker.exec("BEGIN EXCLUSIVE");
    const locked = await buildApp({ pipeline: new FakePipeline(), config: { db: file, dbBusyTimeoutMs: 50 } });
    try {
      const r = await submit(locked, jsonl([{ text: "Alice" }]));
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.error!.code, "E_STORAGE_UNAVAILABLE");
      assert.match(r.body.error!.message, /BUSY|locked/i);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
      await locked.close();
    }
  });
});
