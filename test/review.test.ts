// The review queue, in process (app.inject) with a fake pipeline whose all-capitals words score
// 0.85 (review under the default thresholds): the queue lists unreviewed review documents, accept /
// correct / reject are stored, bad ids and bodies are clear errors, export gives the reviewed
// documents as span JSONL and CoNLL IOB2, and agreement matches numbers computed by hand.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FastifyInstance } from "fastify";
import { parseConll } from "../src/data/conll.js";
import { tagsToSpans } from "../src/data/spans.js";
import { buildApp } from "../src/serve/app.js";
import { cohenKappa } from "../src/serve/review/agreement.js";
import { FakePipeline } from "./fake-pipeline.js";

const dir = mkdtempSync(join(tmpdir(), "nerkit-review-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function withJob(name: string, texts: string[], body: (app: FastifyInstance, jobId: string) => Promise<void>) {
  const app = await buildApp({ pipeline: new FakePipeline(), config: { db: join(dir, `${name}.db`) } });
  try {
    const created = await app.inject({ method: "POST", url: "/v1/jobs", payload: texts.map((text) => JSON.stringify({ text })).join("\n"), headers: { "content-type": "application/x-ndjson" } });
    assert.equal(created.statusCode, 202, created.body);
    const jobId = (created.json() as { id: string }).id;
    for (let i = 0; (await app.inject(`/v1/jobs/${jobId}`)).json().status !== "done"; i++) {
      assert.ok(i < 1000, "the job never finished");
      await new Promise((r) => setTimeout(r, 5));
    }
    await body(app, jobId);
  } finally {
    await app.close();
  }
}

async function queue(app: FastifyInstance, query = "") {
  const r = await app.inject(`/v1/review${query}`);
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { items: { id: string; text: string; entities: { type: string }[] }[] }).items;
}

async function review(app: FastifyInstance, id: string, payload: object) {
  const r = await app.inject({ method: "POST", url: `/v1/review/${id}`, payload });
  return { status: r.statusCode, body: r.json() as { id?: string; action?: string; error?: { code: string; message: string } } };
}

describe("review queue", () => {
  test("queue, accept/correct/reject, errors and export", async () => {
    await withJob("flow", ["Alice met Bob", "Alice joined ACME", "Bob left IBM", "Carol saw ZZ"], async (app, jobId) => {
      const items = await queue(app);
      assert.deepEqual(items.map((i) => i.id), [`${jobId}:1`, `${jobId}:2`, `${jobId}:3`]);
      assert.equal(items[0].text, "Alice joined ACME");
      assert.deepEqual(items[0].entities.map((e) => e.type), ["PER", "ORG"]);
      assert.deepEqual((await queue(app, "?offset=1&limit=1")).map((i) => i.id), [`${jobId}:2`]);

      assert.deepEqual(await review(app, `${jobId}:1`, { reviewer: "ann", action: "accept" }), { status: 200, body: { id: `${jobId}:1`, action: "accept" } });
      const corrected = [{ start: 0, end: 3, label: "PER" }, { start: 9, end: 12, label: "LOC" }];
      assert.equal((await review(app, `${jobId}:2`, { reviewer: "ann", action: "correct", spans: corrected })).status, 200);
      assert.equal((await review(app, `${jobId}:3`, { reviewer: "ann", action: "reject" })).status, 200);
      assert.deepEqual(await queue(app), []);

      for (const id of ["nope", `${jobId}:99`, "other:1", `${jobId}:x`]) {
        const r = await review(app, id, { reviewer: "ann", action: "accept" });
        assert.equal(r.status, 404, id);
        assert.equal(r.body.error?.code, "E_NOT_FOUND");
      }
      const bad: [object, RegExp][] = [
        [{ action: "accept" }, /^reviewer: /],
        [{ reviewer: "ann", action: "maybe" }, /^action: /],
        [{ reviewer: "ann", action: "correct" }, /^spans: required/],
        [{ reviewer: "ann", action: "accept", spans: [] }, /^spans: only/],
        [{ reviewer: "ann", action: "correct", spans: [{ start: 0, end: 40, label: "PER" }] }, /^spans: .*outside the text/],
        [{ reviewer: "ann", action: "correct", spans: [{ start: 0, end: 8, label: "PER" }, { start: 4, end: 12, label: "ORG" }] }, /^spans: .*overlap/],
        [{ reviewer: "ann", action: "correct", spans: [{ start: "0", end: 3, label: "PER" }] }, /^spans\[0\]\.start: /],
        [{ reviewer: "ann", action: "accept", extra: 1 }, /unknown field\(s\): extra/],
      ];
      for (const [payload, message] of bad) {
        const r = await review(app, `${jobId}:2`, payload);
        assert.equal(r.status, 400, JSON.stringify(payload));
        assert.equal(r.body.error?.code, "E_VALIDATION");
        assert.match(r.body.error!.message, message);
      }

      const jsonl = await app.inject("/v1/export?format=jsonl");
      assert.equal(jsonl.statusCode, 200);
      assert.match(String(jsonl.headers["content-type"]), /^application\/x-ndjson/);
      const docs = jsonl.body.trim().split("\n").map((l) => JSON.parse(l) as { id: string; text: string; spans: object[] });
      assert.deepEqual(docs, [
        { id: `${jobId}:1`, text: "Alice joined ACME", spans: [{ start: 0, end: 5, label: "PER", text: "Alice" }, { start: 13, end: 17, label: "ORG", text: "ACME" }] },
        { id: `${jobId}:2`, text: "Bob left IBM", spans: [{ start: 0, end: 3, label: "PER", text: "Bob" }, { start: 9, end: 12, label: "LOC", text: "IBM" }] },
      ]);

      const conll = await app.inject("/v1/export?format=conll");
      assert.match(String(conll.headers["content-type"]), /^text\/plain/);
      const sentences = parseConll(conll.body).sentences;
      assert.deepEqual(sentences.map((s) => s.tags), [["B-PER", "O", "B-ORG"], ["B-PER", "O", "B-LOC"]]);
      const reread = tagsToSpans(sentences[1].tokens, sentences[1].tags);
      assert.equal(reread.text, "Bob left IBM");
      assert.deepEqual(reread.spans.map(({ start, end, label }) => ({ start, end, label })), corrected);

      // A second reviewer is kept too, and the latest review is the one exported.
      assert.equal((await review(app, `${jobId}:2`, { reviewer: "bob", action: "accept" })).status, 200);
      assert.deepEqual(parseConll((await app.inject("/v1/export?format=conll")).body).sentences[1].tags, ["B-PER", "O", "B-ORG"]);
      assert.equal((await app.inject("/v1/export?format=xml")).statusCode, 400);

      // Live precision: PER was kept in all three reviews of model entities, ORG in two of three
      // (ann's correction turned IBM into a LOC).
      const metrics = (await app.inject("/metrics")).body;
      assert.match(metrics, /nerkit_live_precision\{type="PER"\} 1\n/);
      assert.match(metrics, /nerkit_live_precision\{type="ORG"\} 0\.666/);
      assert.match(metrics, /nerkit_review_outcomes_total\{action="reject"\} 1\n/);
    });
  });

  test("agreement between the first two reviewers, against numbers computed by hand", async () => {
    await withJob("agreement", ["Alice met Bob at ACME"], async (app, jobId) => {
      assert.deepEqual((await app.inject("/v1/review/agreement")).json(), { documents: 0, f1: null, kappa: null });
      const id = `${jobId}:0`;
      assert.equal((await review(app, id, { reviewer: "ann", action: "accept" })).status, 200);
      assert.deepEqual((await app.inject("/v1/review/agreement")).json(), { documents: 0, f1: null, kappa: null });
      const spans = [{ start: 0, end: 5, label: "PER" }, { start: 10, end: 13, label: "LOC" }, { start: 17, end: 21, label: "ORG" }];
      assert.equal((await review(app, id, { reviewer: "bob", action: "correct", spans })).status, 200);
      // A third review does not count: only the first two by time.
      assert.equal((await review(app, id, { reviewer: "cat", action: "reject" })).status, 200);
      // ann: B-PER O B-PER O B-ORG; bob: B-PER O B-LOC O B-ORG.
      // F1: 2 of 3 entities match each way → P = R = 2/3 → F1 = 2/3.
      // kappa: p_o = 4/5; p_e = (2·1 [B-PER] + 2·2 [O] + 1·1 [B-ORG]) / 25 = 7/25 → (0.8 − 0.28) / 0.72 = 13/18.
      const result = (await app.inject("/v1/review/agreement")).json() as { documents: number; f1: number; kappa: number };
      assert.equal(result.documents, 1);
      assert.ok(Math.abs(result.f1 - 2 / 3) < 1e-12, String(result.f1));
      assert.ok(Math.abs(result.kappa - 13 / 18) < 1e-12, String(result.kappa));
    });
  });

  test("cohenKappa: table of cases", () => {
    const cases: [string[], string[], number][] = [
      [["O", "O"], ["O", "O"], 1],
      [["A", "B"], ["A", "B"], 1],
      [["A", "B"], ["B", "A"], -1],
      [["A", "A", "B", "B"], ["A", "B", "A", "B"], 0],
    ];
    for (const [a, b, expected] of cases) assert.ok(Math.abs(cohenKappa(a, b) - expected) < 1e-12, `${a} / ${b}`);
  });
});
